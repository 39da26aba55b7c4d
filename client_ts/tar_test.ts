/** Directory archives: packing and unpacking, interoperable with Python's tarfile. */
import assert from "node:assert/strict";
import { extractTar, listEntries, packDirectory } from "./tar.ts";
import { withTempDir } from "./test_util.ts";

const LONG = "very-long-directory-name-".repeat(6);

async function sampleTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/${LONG}/inner`, { recursive: true });
  await Deno.mkdir(`${root}/empty`);
  await Deno.writeTextFile(`${root}/${LONG}/inner/file.txt`, "deep");
  await Deno.writeTextFile(`${root}/top.txt`, "top ž");
  await Deno.writeFile(`${root}/zero.bin`, new Uint8Array(0));
  await Deno.writeFile(
    `${root}/exec.sh`,
    new TextEncoder().encode("#!/bin/sh\n"),
    { mode: 0o755 },
  );
  await Deno.chmod(`${root}/exec.sh`, 0o755);
  await Deno.symlink("top.txt", `${root}/link`);
}

async function listing(root: string, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/${prefix}`)) names.push(e.name);
  const out: string[] = [];
  for (const name of names.sort()) {
    const rel = prefix + name;
    const info = await Deno.lstat(`${root}/${rel}`);
    if (info.isSymlink) {
      out.push(`${rel} -> ${await Deno.readLink(`${root}/${rel}`)}`);
    } else if (info.isDirectory) {
      out.push(`${rel}/`, ...await listing(root, rel + "/"));
    } else {
      const exec = (info.mode! & 0o100) ? " (x)" : "";
      out.push(`${rel}${exec}: ${await Deno.readTextFile(`${root}/${rel}`)}`);
    }
  }
  return out;
}

Deno.test("pack then extract gives the same tree (long names, empty dirs, links, modes)", async () => {
  await withTempDir(async (dir) => {
    await sampleTree(`${dir}/src`);
    const archive = await packDirectory(`${dir}/src`);
    assert.equal(archive.length % 512, 0);
    await extractTar(new Blob([archive]).stream(), `${dir}/out`);
    assert.deepEqual(await listing(`${dir}/out`), await listing(`${dir}/src`));
    const entries = await listEntries(archive);
    assert.ok(
      entries.some((e) => e.name === `${LONG}/inner/file.txt` && e.type === "file"),
    );
    assert.ok(
      entries.some((e) => e.name === "link" && e.linkname === "top.txt"),
    );
  });
});

Deno.test("Python's tarfile reads our archives and we read its archives", async () => {
  await withTempDir(async (dir) => {
    await sampleTree(`${dir}/src`);
    await Deno.writeFile(`${dir}/ours.tar`, await packDirectory(`${dir}/src`));
    const python = `
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print("\\n".join(sorted(m.name + ("/" if m.isdir() else "") for m in t.getmembers())))
with tarfile.open(sys.argv[2], "w", format=tarfile.GNU_FORMAT) as t:
    t.add(sys.argv[3], arcname=".")
`;
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        python,
        `${dir}/ours.tar`,
        `${dir}/theirs.tar`,
        `${dir}/src`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.deepEqual(
      new TextDecoder().decode(out.stdout).trim().split("\n"),
      [
        "empty/",
        "exec.sh",
        "link",
        "top.txt",
        `${LONG}/`,
        `${LONG}/inner/`,
        `${LONG}/inner/file.txt`,
        "zero.bin",
      ].sort(),
    );
    // GNU long names ("././@LongLink") and a "./" prefix.
    const file = await Deno.open(`${dir}/theirs.tar`);
    await extractTar(file.readable, `${dir}/theirs`);
    assert.deepEqual(
      await listing(`${dir}/theirs`),
      await listing(`${dir}/src`),
    );
  });
});

Deno.test("unsafe archives are refused", async () => {
  await withTempDir(async (dir) => {
    const python = `
import io, sys, tarfile
def archive(path, **kw):
    with tarfile.open(path, "w") as t:
        info = tarfile.TarInfo(kw.pop("name"))
        for k, v in kw.items(): setattr(info, k, v)
        t.addfile(info, io.BytesIO(b""))
archive(sys.argv[1] + "/up.tar", name="../escape")
archive(sys.argv[1] + "/abs.tar", name="/etc/x")
archive(sys.argv[1] + "/link.tar", name="l", type=tarfile.SYMTYPE, linkname="/etc/passwd")
`;
    const out = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", python, dir],
    }).output();
    assert.ok(out.success);
    for (const name of ["up", "abs", "link"]) {
      const file = await Deno.open(`${dir}/${name}.tar`);
      await assert.rejects(
        extractTar(file.readable, `${dir}/${name}`),
        /unsafe/,
        name,
      );
    }
  });
});
