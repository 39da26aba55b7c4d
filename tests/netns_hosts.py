"""Several "hosts" on one machine for multi-host tests: network namespaces with their own
addresses, joined by a bridge in a namespace of its own, each running a private sshd.

All traffic stays inside these namespaces: every command that talks to a host address runs in
one of them (``hosts.run(i, ...)``); the root namespace is never given an address or route to
them. Needs root, ``ip`` (iproute2) and ``sshd`` (openssh-server). Everything started here —
sshd daemons, namespaces, the temporary directory — is removed by ``close()``.

Host ``i`` (0-based) has address ``hosts.address(i)``; its sshd listens on port 2222. With
``without_rain=True`` the host's sshd (and everything started through it) runs in a mount
namespace where the repository is hidden, like a machine where rain is not installed.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

from rain_testing import REPO, remove_tree, wait_until

SSH_PORT = 2222
SUBNET = "10.213.7"


def available():
    """Why multi-host tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return "needs {} (apt-get install iproute2 openssh-client)".format(tool)
    if not os.path.exists("/usr/sbin/sshd"):
        return "needs /usr/sbin/sshd (apt-get install openssh-server)"
    probe = "rainprobe" + uuid.uuid4().hex[:6]
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "cannot create network namespaces here"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError("{} failed: {}".format(" ".join(args), result.stderr.strip()))
    return result


class NetnsHosts:
    def __init__(self, count, without_rain=()):
        tag = uuid.uuid4().hex[:6]
        self.names = ["rain{}h{}".format(tag, i) for i in range(count)]
        self.switch = "rain{}sw".format(tag)
        self.workspace = tempfile.mkdtemp(prefix="rain-netns-")
        self.sshd = []
        self._created = []
        try:
            self._setup(count, set(without_rain))
        except BaseException:
            self.close()
            raise

    def address(self, i):
        return "{}.{}".format(SUBNET, i + 1)

    def path(self, *parts):
        return os.path.join(self.workspace, *parts)

    def _netns(self, name, *args):
        return _run(["ip", "netns", "exec", name] + list(args))

    def _setup(self, count, without_rain):
        _run(["ip", "netns", "add", self.switch])
        self._created.append(self.switch)
        self._netns(self.switch, "ip", "link", "add", "br0", "type", "bridge")
        self._netns(self.switch, "ip", "link", "set", "br0", "up")
        for i, name in enumerate(self.names):
            _run(["ip", "netns", "add", name])
            self._created.append(name)
            # The veth pair is made inside the switch namespace, its peer moved straight into
            # the host's: nothing is ever created in the root namespace.
            self._netns(self.switch, "ip", "link", "add", "p{}".format(i), "type", "veth",
                        "peer", "name", "eth0", "netns", name)
            self._netns(self.switch, "ip", "link", "set", "p{}".format(i), "master", "br0",
                        "up")
            self._netns(name, "ip", "addr", "add", self.address(i) + "/24", "dev", "eth0")
            self._netns(name, "ip", "link", "set", "eth0", "up")
            self._netns(name, "ip", "link", "set", "lo", "up")
        # sshd refuses to start without its privilege separation directory.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.path("host_key")])
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.path("id")])
        shutil.copy(self.path("id.pub"), self.path("authorized_keys"))
        for i, name in enumerate(self.names):
            config = self.path("sshd-{}.conf".format(i))
            with open(config, "w") as f:
                f.write("\n".join([
                    "Port {}".format(SSH_PORT),
                    "ListenAddress {}".format(self.address(i)),
                    "HostKey {}".format(self.path("host_key")),
                    "AuthorizedKeysFile {}".format(self.path("authorized_keys")),
                    "PidFile none",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "LogLevel ERROR",
                ]) + "\n")
            command = ["/usr/sbin/sshd", "-D", "-e", "-f", config]
            if i in without_rain:
                # A private mount namespace where the repository (rain) is an empty directory.
                command = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                           'mount -t tmpfs rain-hidden "$0" && exec "$@"', REPO] + command
            log = open(self.path("sshd-{}.log".format(i)), "wb")
            self.sshd.append(subprocess.Popen(
                ["ip", "netns", "exec", name] + command, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True))
            log.close()
        for i in range(count):
            ok = wait_until(lambda: self.run(i, self.ssh() + [self.address(i), "true"],
                                             timeout=20).returncode == 0, timeout=20)
            if not ok:
                raise RuntimeError("sshd on {} does not answer:\n{}".format(
                    self.address(i), open(self.path("sshd-{}.log".format(i))).read()))

    def ssh(self):
        """The ssh command reaching the hosts (also as RAIN_SSH)."""
        return ["ssh", "-F", "/dev/null", "-p", str(SSH_PORT), "-i", self.path("id"),
                "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes"]

    def run(self, i, args, env=None, timeout=120, **kwargs):
        """Runs ``args`` on host ``i`` (inside its network namespace)."""
        return subprocess.run(["ip", "netns", "exec", self.names[i]] + list(args),
                              capture_output=True, text=True, env=env, timeout=timeout,
                              stdin=subprocess.DEVNULL, **kwargs)

    def pids(self, i):
        """Pids of every process in host ``i``'s network namespace."""
        out = subprocess.run(["ip", "netns", "pids", self.names[i]], capture_output=True,
                             text=True).stdout
        return {int(p) for p in out.split()}

    def leftovers(self):
        """Processes in the hosts' namespaces other than the sshd daemons: {pid: cmdline}."""
        daemons = {p.pid for p in self.sshd}
        found = {}
        for i in range(len(self.names)):
            for pid in self.pids(i) - daemons:
                try:
                    with open("/proc/{}/cmdline".format(pid), "rb") as f:
                        cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
                except OSError:
                    continue
                # Under unshare, the daemon is sshd's parent-less exec chain: the same pid.
                found[pid] = cmd.strip()
        return found

    def close(self):
        leftovers = {}
        try:
            leftovers = self.leftovers() if self._created else {}
        except Exception:
            pass
        for process in self.sshd:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        # Whatever a failed test left in the namespaces was started by it: stop it by pid.
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + 5
        for name in reversed(self._created):
            while True:
                result = subprocess.run(["ip", "netns", "del", name], capture_output=True)
                if result.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        self._created = []
        if os.path.isdir(self.workspace):
            remove_tree(self.workspace)
