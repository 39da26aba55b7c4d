"""The user guide runs: every ```python block of docs/guide/*.md (and of README.md) is a
complete script, run against a test cluster (2 governors x 2 cpus) as a user would run it, and
must exit 0; ```sh run blocks run in bash with `rain` on PATH and RAIN_SERVER set to the cluster's
address. ```python no-run blocks (fragments) and other fences are not run. Relative links of the
guide and the README must lead to files that exist.

A block connects with `Client("localhost", 7210)`; the test puts the cluster's address there.
All blocks share one cluster: a block must not stop it or its governors (show such commands in
```sh blocks, which are not run).
"""

import os
import re
import subprocess
import sys
import tempfile

import pytest

from rain_testing import CLIENT_PY, REPO, RAIN_BIN, RainCluster, remove_tree

GUIDE = os.path.join(REPO, "docs", "guide")
README = os.path.join(REPO, "README.md")
# `Client("localhost", 7210)`, also with more arguments (`secret=`) after the port.
DOCUMENTED_ADDRESS = re.compile(r'Client\("localhost", 7210(?=[,)])')
FENCE = re.compile(r"^(\s*)```(.*)$")
DENO = os.path.join(REPO, "node_modules", "deno", "deno")
if not os.access(DENO, os.X_OK):
    DENO = os.path.join(REPO, "node_modules", ".bin", "deno")
# Executors the guide's pages call by task type. The C++ and TypeScript executor pages use the
# same "example1/hello" contract as executor/example.ts, so their client scripts run against it
# here (the C++ and Rust executors themselves are tested by tests/test_tasklib_*.py).
EXECUTORS = {
    "example1": [DENO, "run", "-A", "--no-check", "--config", os.path.join(REPO, "deno.json"),
                 os.path.join(REPO, "executor", "example.ts")],
    "upper": "env PYTHONPATH={} {} {}".format(
        CLIENT_PY, sys.executable, os.path.join(REPO, "tests", "executors", "upper.py")),
}
BLOCK_TIMEOUT = 240


def guide_pages():
    if not os.path.isdir(GUIDE):
        return []
    return sorted(os.path.join(GUIDE, name) for name in os.listdir(GUIDE) if name.endswith(".md"))


def code_blocks(path):
    """(info string, first line number, text) of each fenced block of a Markdown file."""
    blocks = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, info = opening.group(1), opening.group(2).strip()
        body, start = [], i + 1
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        if i >= len(lines):
            raise ValueError("{}:{}: code block never closed".format(path, start))
        blocks.append((info, start, "\n".join(body) + "\n"))
        i += 1
    return blocks


def runnable_blocks():
    """pytest params: (page, line, kind, text) of every block the convention runs."""
    params = []
    for page in guide_pages() + [README]:
        for info, line, text in code_blocks(page):
            words = info.split()
            if not words:
                continue
            language, flags = words[0], words[1:]
            if language == "python" and "no-run" not in flags:
                kind = "python"
            elif language == "sh" and "run" in flags:
                kind = "sh"
            else:
                continue
            name = os.path.basename(page)
            params.append(pytest.param(name, line, kind, text, id="{}:{}".format(name, line)))
    return params


@pytest.fixture(scope="module")
def guide_cluster():
    cluster = RainCluster((2, 2), executors=EXECUTORS)
    bin_dir = tempfile.mkdtemp(prefix="rain-guide-bin-")
    # A wrapper, not a symlink: RAIN_TEST_BIN (tests/rain_bundle.sh) finds its files from its path.
    wrapper = os.path.join(bin_dir, "rain")
    with open(wrapper, "w") as f:
        # RAIN_TEST_BIN may be relative to the repository (tests/run.sh gives it so).
        f.write('#!/bin/sh\nexec "{}" "$@"\n'.format(os.path.join(REPO, RAIN_BIN)))
    os.chmod(wrapper, 0o755)
    cluster.bin_dir = bin_dir
    yield cluster
    cluster.stop()
    remove_tree(bin_dir)


def block_env(cluster):
    env = dict(os.environ)
    env["PYTHONPATH"] = CLIENT_PY + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    env["PATH"] = cluster.bin_dir + os.pathsep + env.get("PATH", "")
    env["RAIN_SERVER"] = cluster.address
    from rain.client.rpc.secret import find_secret
    secret = find_secret("127.0.0.1", cluster.port)
    if secret:
        env["RAIN_SECRET"] = secret
    return env


def with_address(script, port):
    return DOCUMENTED_ADDRESS.sub('Client("127.0.0.1", {}'.format(port), script)


@pytest.mark.parametrize("page,line,kind,text", runnable_blocks())
def test_guide_block(guide_cluster, page, line, kind, text):
    if kind == "python":
        script = with_address(text, guide_cluster.port)
        args = ["/usr/bin/python3", "-"]
    else:
        script = text
        args = ["bash", "-euo", "pipefail", "-s"]
    workdir = tempfile.mkdtemp(prefix="rain-guide-block-")
    try:
        result = subprocess.run(args, input=script, cwd=workdir, env=block_env(guide_cluster),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                timeout=BLOCK_TIMEOUT)
    finally:
        remove_tree(workdir)
    assert result.returncode == 0, "{} block at line {} exited with {}:\n{}\n{}\n{}".format(
        page, line, result.returncode, result.stdout, result.stderr, guide_cluster.logs())


def test_guide_blocks_found():
    """The collection above is not silently empty: the guide has runnable Python blocks, and
    every Python block that is not run says why (no-run) rather than using another fence."""
    kinds = [p.values[2] for p in runnable_blocks()]
    assert kinds.count("python") >= 20, kinds
    assert "sh" in kinds
    # The per-task output page's examples (logs(), echo) are run too.
    pages = [p.values[0] for p in runnable_blocks() if p.values[2] == "python"]
    assert pages.count("task-output.md") >= 2, pages


LINK = re.compile(r"\]\(([^)\s]+)\)")


def markdown_links(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Links inside code blocks and code spans are code, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    return LINK.findall(text)


@pytest.mark.parametrize("page", [README] + guide_pages(),
                         ids=lambda p: os.path.relpath(p, REPO))
def test_relative_links_resolve(page):
    missing = []
    for target in markdown_links(page):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        resolved = os.path.normpath(os.path.join(os.path.dirname(page), file_part))
        if os.path.exists(resolved):
            continue
        missing.append(target)
    assert not missing, "{} links to missing files: {}".format(page, missing)


def test_every_guide_page_is_reachable_from_the_index():
    """Each page can be found by following links from docs/guide/README.md."""
    pages = {os.path.basename(p) for p in guide_pages()}
    reached, todo = set(), ["README.md"]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for target in markdown_links(os.path.join(GUIDE, page)):
            name = target.split("#", 1)[0]
            if "/" not in name and name in pages:
                todo.append(name)
    assert pages <= reached, "not reachable from docs/guide/README.md: {}".format(
        sorted(pages - reached))
