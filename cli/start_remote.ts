/** The remote governors of `rain start` (`--governor-host-file`, `--autoconf=pbs|slurm`). */
import { join } from "node:path";
import { type Address, DEFAULT_SERVER_PORT, formatAddress, isWildcard } from "./address.ts";
import {
  expandHostlist,
  launcherArgv,
  type LocalIdentity,
  parseHostFile,
  parsePbsNodefile,
  remoteScript,
  type RemoteSpec,
} from "./remote.ts";
import { authHeaders } from "../common/secret.ts";
import { count } from "../common/plural.ts";
import type { RemoteHosts, StartOptions } from "./start_args.ts";

/** Reads the remote hosts (the host file, $PBS_NODEFILE) or expands the Slurm node list. */
export async function readRemoteHosts(remote: RemoteHosts): Promise<string[]> {
  if (remote.source === "slurm") return expandHostlist(remote.value);
  let text: string;
  const what = remote.source === "pbs" ? `$PBS_NODEFILE ${remote.value}` : remote.value;
  try {
    text = await Deno.readTextFile(remote.value);
  } catch (e) {
    throw new Error(`cannot read ${what}: ${(e as Error).message}`);
  }
  return remote.source === "pbs" ? parsePbsNodefile(text, what) : parseHostFile(text, what);
}

/** Where remote governors reach the server: this host's name when it listens everywhere. */
export function remoteServerAddress(listen: Address, hostname: string): Address {
  return { host: isWildcard(listen.host) ? hostname : listen.host, port: listen.port };
}

/** The remote governors to start, one per host (pure). */
export function planRemote(
  options: StartOptions,
  self: string[],
  hostname: string,
  hosts: string[],
  identity?: LocalIdentity,
): RemoteSpec[] {
  const remote = options.remote!;
  const prefix = [...options.runPrefix, ...self];
  const server = formatAddress(remoteServerAddress(options.listen, hostname));
  // rain itself must be at the same path there: every absolute path of its command line.
  const required = [...new Set(prefix.filter((a) => a.startsWith("/")))];
  return hosts.map((host, i) => {
    const dir = join(options.logDir, `governor-${i}`);
    const args = [`--logdir=${dir}`, "--ready-file=-"];
    if (!options.insecure) args.push("--secret-file=-");
    args.push("--watch-stdin");
    if (options.workDir !== undefined) {
      args.push(`--workdir=${join(options.workDir, `governor-${i}`)}`);
    }
    if (options.governorConfig !== undefined) args.push(`--config=${options.governorConfig}`);
    if (options.serverLostTimeout !== undefined) {
      args.push(`--server-lost-timeout=${options.serverLostTimeout}`);
    }
    args.push(...options.governorResourceArgs ?? []);
    const script = remoteScript({
      command: [...prefix, "governor", server],
      args,
      required,
      init: options.remoteInit,
      reserveOn: options.reserveCpu ? identity : undefined,
    });
    return {
      name: `governor ${i} on ${host}`,
      argv: launcherArgv(remote.launcher, remote.command, host, script),
      logFile: join(dir, "governor.log"),
      readyFile: join(dir, "ready"),
      host,
      launcher: remote.launcher,
    };
  });
}

/** The "Rain started" line for remote governors, with their cpus as the server reports them. */
export async function remoteMessage(
  options: StartOptions,
  hostname: string,
  connect: Address,
  hosts: string[],
  secret: string | undefined,
): Promise<string> {
  let cpus = "";
  try {
    const res = await fetch(`http://${formatAddress(connect)}/api/v1/server_info`, {
      headers: authHeaders(secret),
      signal: AbortSignal.timeout(5000),
    });
    const info = await res.json() as { governors: { resources: { cpus: number } }[] };
    cpus = ` (${count(info.governors.reduce((n, g) => n + g.resources.cpus, 0), "cpu")})`;
  } catch {
    // the count is only informative
  }
  const shown = (a: Address) => ({ host: isWildcard(a.host) ? hostname : a.host, port: a.port });
  const n = hosts.length;
  const stopHint = options.listen.port === DEFAULT_SERVER_PORT && isWildcard(options.listen.host)
    ? "rain stop"
    : `rain stop ${formatAddress(connect)}`;
  return `Rain started: server at ${formatAddress(shown(options.listen))}, ` +
    `dashboard at http://${formatAddress(shown(options.httpListen))}, ` +
    `${n} governor${n === 1 ? "" : "s"} on ${hosts.join(", ")}${cpus}; stop with: ${stopHint}`;
}
