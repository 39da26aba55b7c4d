/** Which local processes `rain start` runs, with which arguments (pure). */
import { join } from "node:path";
import {
  type Address,
  connectAddress,
  DEFAULT_SERVER_PORT,
  formatAddress,
  isWildcard,
} from "./address.ts";
import { count } from "../common/plural.ts";
import type { StartOptions } from "./start_args.ts";

/** One process to start. */
export interface ProcessPlan {
  /** `server` or `governor 0`, … (for messages). */
  name: string;
  argv: string[];
  logDir: string;
  /** stdout and stderr of the process. */
  logFile: string;
  readyFile: string;
}

export interface StartPlan {
  server: ProcessPlan;
  governors: ProcessPlan[];
  /** Where the governors (and `rain stop`) reach the server. */
  connect: Address;
  /** Printed when everything is up. */
  message: string;
}

/** Which processes `rain start` runs, given the command that re-invokes this program. */
export function planStart(options: StartOptions, self: string[], hostname: string): StartPlan {
  const prefix = [...options.runPrefix, ...self];
  const serverDir = join(options.logDir, "server");
  const server: ProcessPlan = {
    name: "server",
    argv: [
      ...prefix,
      "server",
      `--listen=${formatAddress(options.listen)}`,
      `--http-listen=${formatAddress(options.httpListen)}`,
      `--logdir=${serverDir}`,
      `--ready-file=${join(serverDir, "ready")}`,
      ...(options.insecure ? ["--insecure"] : []),
      ...(options.logRetention !== undefined ? [`--log-retention=${options.logRetention}`] : []),
    ],
    logDir: serverDir,
    logFile: join(serverDir, "server.log"),
    readyFile: join(serverDir, "ready"),
  };
  const connect = connectAddress(options.listen);
  const governors = options.governors.map((g, i): ProcessPlan => {
    const dir = join(options.logDir, `governor-${i}`);
    const argv = [...prefix, "governor", formatAddress(connect)];
    if (g.arg !== undefined) argv.push(`--cpus=${g.arg}`);
    argv.push(`--logdir=${dir}`, `--ready-file=${join(dir, "ready")}`);
    if (options.workDir !== undefined) {
      argv.push(`--workdir=${join(options.workDir, `governor-${i}`)}`);
    }
    if (options.governorConfig !== undefined) argv.push(`--config=${options.governorConfig}`);
    if (options.serverLostTimeout !== undefined) {
      argv.push(`--server-lost-timeout=${options.serverLostTimeout}`);
    }
    argv.push(...options.governorResourceArgs ?? []);
    return {
      name: `governor ${i}`,
      argv,
      logDir: dir,
      logFile: join(dir, "governor.log"),
      readyFile: join(dir, "ready"),
    };
  });
  const shown = (a: Address) => ({ host: isWildcard(a.host) ? hostname : a.host, port: a.port });
  const n = options.governors.length;
  if (options.remote) {
    return { server, governors, connect, message: "" }; // the message waits for the hosts
  }
  const stopHint = options.listen.port === DEFAULT_SERVER_PORT && isWildcard(options.listen.host)
    ? "rain stop"
    : `rain stop ${formatAddress(connect)}`;
  const message = `Rain started: server at ${formatAddress(shown(options.listen))}, ` +
    `dashboard at http://${formatAddress(shown(options.httpListen))}, ` +
    `${n} governor${n === 1 ? "" : "s"} (${governorCpus(options.governors.map((g) => g.cpus))}` +
    `); stop with: ${stopHint}`;
  return { server, governors, connect, message };
}

/** `1 cpu`, `4 cpus`, `2, 2 cpus`: the cpus of the governors started. */
function governorCpus(cpus: number[]): string {
  return cpus.length === 1 ? count(cpus[0]!, "cpu") : `${cpus.join(", ")} cpus`;
}
