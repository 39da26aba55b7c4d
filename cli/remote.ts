/**
 * Remote governors of `rain start`: which hosts (`--governor-host-file`, `--autoconf=pbs|slurm`),
 * how each is started (`ssh`, or `srun` inside a Slurm job) and how `rain start` watches it.
 *
 * A remote governor is `rain governor … --ready-file=- --secret-file=- --watch-stdin` run by
 * `/bin/sh` on the host (after `--remote-init`, after checking that rain is installed there):
 * - the cluster secret travels as the first line of the launcher's stdin (never on a command
 *   line, so `ps` on either machine does not show it);
 * - the launcher's stdin then stays open for the governor's whole life and the governor exits
 *   when it ends: killing the local `ssh` (or losing the connection) stops the remote governor;
 * - the governor prints `ready` on stdout once registered: the launcher's stdout goes to the
 *   local file `<logdir>/governor-<i>/ready`, its stderr (the governor's log) to `governor.log`.
 *
 * Parsing is pure (unit-tested); `spawnRemote` does the work.
 */
import { type Spawned, tracked } from "./process.ts";

/** How remote governors are started. */
export type Launcher = "ssh" | "srun";

/** The hosts listed in a host file: one a line, blank lines and `#` comments ignored. */
export function parseHostFile(text: string, source: string): string[] {
  const hosts: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const problem = hostProblem(line);
    if (problem) throw new Error(`${source}, line ${i + 1}: '${line}' ${problem}`);
    hosts.push(line);
  });
  if (hosts.length === 0) throw new Error(`${source} lists no hosts`);
  return hosts;
}

/** Why `host` cannot be used as a host name for ssh/srun (undefined: fine). */
export function hostProblem(host: string): string | undefined {
  if (/\s/.test(host)) return "is not one host name (one host a line)";
  if (host.startsWith("-")) return "is not a host name (it starts with '-')";
  if (!/^[A-Za-z0-9._:\[\]%@-]+$/.test(host)) return "is not a host name";
  return undefined;
}

/** Hosts of `$PBS_NODEFILE` (one line per allocated cpu): each host once, in order. */
export function parsePbsNodefile(text: string, source: string): string[] {
  const hosts = [...new Set(text.split("\n").map((l) => l.trim()).filter((l) => l !== ""))];
  for (const h of hosts) {
    const problem = hostProblem(h);
    if (problem) throw new Error(`${source}: '${h}' ${problem}`);
  }
  if (hosts.length === 0) throw new Error(`${source} lists no hosts`);
  return hosts;
}

/** Most hosts a Slurm host list may expand to (a typo like `n[1-99999999]` is an error). */
export const MAX_HOSTS = 100_000;

/**
 * Expands a Slurm host list (`$SLURM_JOB_NODELIST`) without `scontrol`: `node[01-04,07],gpu2` →
 * node01 … node04, node07, gpu2; several bracket groups multiply (`r[1-2]n[1-2]`); zero padding
 * follows the width of a range's first number.
 */
export function expandHostlist(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let item = "";
  for (const c of text.trim()) {
    if (c === "[") depth++;
    if (c === "]") depth--;
    if (depth < 0) throw new Error(`host list '${text}': unbalanced ']'`);
    if (c === "," && depth === 0) {
      items.push(item);
      item = "";
    } else {
      item += c;
    }
  }
  if (depth !== 0) throw new Error(`host list '${text}': unbalanced '['`);
  items.push(item);
  const hosts: string[] = [];
  for (const it of items) {
    const t = it.trim();
    if (t === "") continue;
    for (const h of expandItem(t, text)) {
      hosts.push(h);
      if (hosts.length > MAX_HOSTS) {
        throw new Error(`host list '${text}' names more than ${MAX_HOSTS} hosts`);
      }
    }
  }
  if (hosts.length === 0) throw new Error(`host list '${text}' names no hosts`);
  return [...new Set(hosts)];
}

function expandItem(item: string, whole: string): string[] {
  const open = item.indexOf("[");
  if (open < 0) {
    if (item.includes("]")) throw new Error(`host list '${whole}': unbalanced ']'`);
    return [item];
  }
  const close = item.indexOf("]", open);
  const prefix = item.slice(0, open);
  const numbers: string[] = [];
  for (const part of item.slice(open + 1, close).split(",")) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) {
      throw new Error(`host list '${whole}': '[${item.slice(open + 1, close)}]' is not a range`);
    }
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new Error(`host list '${whole}': range ${part.trim()} goes backwards`);
    if (last - first > MAX_HOSTS) {
      throw new Error(`host list '${whole}' names more than ${MAX_HOSTS} hosts`);
    }
    const width = m[1]!.length; // the group is not optional
    for (let n = first; n <= last; n++) numbers.push(String(n).padStart(width, "0"));
  }
  const rests = expandItem(item.slice(close + 1), whole);
  const out: string[] = [];
  for (const n of numbers) {
    for (const r of rests) {
      out.push(prefix + n + r);
      if (out.length > MAX_HOSTS) {
        throw new Error(`host list '${whole}' names more than ${MAX_HOSTS} hosts`);
      }
    }
  }
  return out;
}

/** `s` quoted for a POSIX shell. */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** What identifies the machine (and network stack) running the server, for `-S`. */
export interface LocalIdentity {
  bootId: string;
  netns: string;
}

/** This machine's boot id and this process's network namespace (Linux), if readable. */
export function localIdentity(): LocalIdentity | undefined {
  try {
    return {
      bootId: Deno.readTextFileSync("/proc/sys/kernel/random/boot_id").trim(),
      netns: Deno.readLinkSync("/proc/self/ns/net"),
    };
  } catch {
    return undefined;
  }
}

export interface RemoteScriptOptions {
  /** Run prefix + rain + `governor SERVER`. */
  command: string[];
  /** The governor's other arguments. */
  args: string[];
  /** Paths that must exist on the host (rain itself: the program and its files). */
  required: string[];
  /** `--remote-init`: shell commands run first. */
  init?: string;
  /** `-S`: add `--cpus=-1` on the machine (and network namespace) of the server. */
  reserveOn?: LocalIdentity;
}

/**
 * The `/bin/sh` script run on a remote host: init commands, the check that rain is installed
 * there (exit 127 with a message naming the host and path), the `-S` check, then `exec` of the
 * governor. One line, so that any login shell passes it on intact.
 */
export function remoteScript(o: RemoteScriptOptions): string {
  const parts: string[] = [];
  if (o.init !== undefined && o.init.trim() !== "") parts.push(o.init.trim().replace(/;+$/, ""));
  for (const path of o.required) {
    parts.push(
      `if [ ! -e ${shQuote(path)} ]; then echo "rain: ${
        path.replace(/["$`\\]/g, "")
      } does not exist on host $(hostname): rain must be installed at the same path on every host" >&2; exit 127; fi`,
    );
  }
  let cpus = "";
  if (o.reserveOn) {
    parts.push(
      `rain_cpus=; if [ "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)" = ${
        shQuote(o.reserveOn.bootId)
      } ] && [ "$(readlink /proc/self/ns/net 2>/dev/null)" = ${
        shQuote(o.reserveOn.netns)
      } ]; then rain_cpus=--cpus=-1; fi`,
    );
    cpus = " $rain_cpus";
  }
  const args = o.args.map(shQuote).join(" ");
  parts.push(`exec ${o.command.map(shQuote).join(" ")}${cpus}${args ? " " + args : ""}`);
  return parts.join("; ");
}

/** The local command that runs `script` on `host`. */
export function launcherArgv(
  launcher: Launcher,
  command: string[],
  host: string,
  script: string,
): string[] {
  if (launcher === "srun") {
    return [...command, "--nodes=1", "--ntasks=1", `--nodelist=${host}`, "/bin/sh", "-c", script];
  }
  // -T: no terminal; BatchMode: fail rather than ask for a password. Options given in RAIN_SSH
  // come first and win.
  return [
    ...command,
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "ServerAliveInterval=30",
    "--",
    host,
    `exec /bin/sh -c ${shQuote(script)}`,
  ];
}

/** True when `program` (a path, or a name looked up in `PATH`) is an executable file here. */
export function programExists(program: string, path = Deno.env.get("PATH") ?? ""): boolean {
  const candidates = program.includes("/")
    ? [program]
    : path.split(":").filter((d) => d !== "").map((d) => `${d}/${program}`);
  return candidates.some((c) => {
    try {
      const info = Deno.statSync(c);
      return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

/** Default launcher commands (`RAIN_SSH`, `RAIN_SRUN` replace them). */
export const DEFAULT_SSH = ["ssh"];
export const DEFAULT_SRUN = ["srun", "--overlap", "--cpu-bind=none"];

/** Why a remote governor that exited during start failed, from its launcher's exit. */
export function describeRemoteExit(
  launcher: Launcher,
  host: string,
  status: Deno.CommandStatus,
): string {
  if (status.signal) return `its ${launcher} was killed by ${status.signal}`;
  if (launcher === "ssh" && status.code === 255) {
    return `host ${host} cannot be reached with ssh (exit code 255)`;
  }
  if (status.code === 127) return `rain is missing on host ${host} (exit code 127)`;
  return `the governor on host ${host} exited (exit code ${status.code})`;
}

/** One remote governor to start. */
export interface RemoteSpec {
  name: string;
  argv: string[];
  logFile: string;
  /** Receives the launcher's stdout: the governor prints `ready` there. */
  readyFile: string;
  host: string;
  launcher: Launcher;
}

/**
 * Starts the launcher of a remote governor detached (own session, outlives `rain start`), stdout
 * into `readyFile`, stderr into `logFile`, and hands it the secret on stdin. Its stdin is a pipe
 * the launcher itself keeps open (reopened read-write through /proc/self/fd/0), so it never ends
 * while the launcher runs: the governor's `--watch-stdin` then ends with the launcher.
 */
export async function spawnRemote(spec: RemoteSpec, secret: string | undefined): Promise<Spawned> {
  const child = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      'out=$1 err=$2; shift 2; exec "$@" 0<>/proc/self/fd/0 >"$out" 2>"$err"',
      "rain-start",
      spec.readyFile,
      spec.logFile,
      ...spec.argv,
    ],
    detached: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const spawned = tracked(spec, child);
  const writer = child.stdin.getWriter();
  try {
    if (secret !== undefined) await writer.write(new TextEncoder().encode(secret + "\n"));
    await writer.close();
  } catch {
    // the launcher died at once: waitReady reports it
  }
  return spawned;
}
