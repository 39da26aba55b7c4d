/**
 * `rain start`: starts a server and governors as detached background processes, waits until all
 * of them are ready, prints where Rain runs and exits, leaving them running.
 *
 * Parsing and planning (which processes with which arguments) are pure; `runStart` does the work.
 */
import { dirname, join } from "node:path";
import { type Address, formatAddress, isWildcard } from "./address.ts";
import type { CliContext } from "./context.ts";
import type { Io } from "./io.ts";
import { shutdownOrder, spawnDetached, type Spawned, stopAll } from "./process.ts";
import { localIdentity, programExists, type RemoteSpec, spawnRemote } from "./remote.ts";
import {
  generateSecret,
  readSecretFile,
  SECRET_ENV,
  secretKey,
  secretsDir,
} from "../common/secret.ts";
import type { StartOptions } from "./start_args.ts";
import { planRemote, readRemoteHosts, remoteMessage } from "./start_remote.ts";
import { planStart } from "./start_plan.ts";
import { answers, waitReady } from "./start_ready.ts";
export { START_USAGE } from "./start_usage.ts";
export {
  DEFAULT_START_TIMEOUT,
  governorResourceArgs,
  parseLocalGovernors,
  parseStartArgs,
} from "./start_args.ts";
export type { GovernorCpus, RemoteHosts, StartCommand, StartOptions } from "./start_args.ts";
export { planStart } from "./start_plan.ts";
export type { ProcessPlan, StartPlan } from "./start_plan.ts";
export { planRemote, readRemoteHosts, remoteServerAddress } from "./start_remote.ts";
export { answers, logTail } from "./start_ready.ts";

/** Runs `rain start`: returns its exit code. */
export async function runStart(
  options: StartOptions,
  self: string[],
  ctx: CliContext,
  io: Io,
): Promise<number> {
  const plan = planStart(options, self, ctx.hostname);
  if (await answers(plan.connect)) {
    io.err(
      `rain: ${formatAddress(plan.connect)} already answers (is Rain already running? ` +
        `stop it with: rain stop ${formatAddress(plan.connect)})\n`,
    );
    return 1;
  }
  let hosts: string[] = [];
  let remotes: RemoteSpec[] = [];
  let secret: string | undefined;
  try {
    if (options.remote) {
      const launcher = options.remote.command[0] ?? "";
      if (!programExists(launcher)) {
        throw new Error(
          `'${launcher}' is not found here: remote governors are started with ` +
            `${options.remote.launcher} (install it, or set ${
              options.remote.launcher === "ssh" ? "RAIN_SSH" : "RAIN_SRUN"
            })`,
        );
      }
      hosts = await readRemoteHosts(options.remote);
      remotes = planRemote(
        options,
        self,
        ctx.hostname,
        hosts,
        options.reserveCpu ? localIdentity() : undefined,
      );
    }
    if (!options.insecure) {
      secret = options.secretFile !== undefined
        ? await readSecretFile(options.secretFile)
        : generateSecret();
    }
  } catch (e) {
    io.err(`rain: ${(e as Error).message}\n`);
    return 1;
  }
  // The secret goes in the environment (never on a command line: `ps` shows those).
  const env = secret === undefined ? undefined : { [SECRET_ENV]: secret };
  for (const p of [plan.server, ...plan.governors, ...remotes]) {
    await Deno.mkdir(dirname(p.readyFile), { recursive: true });
    await Deno.remove(p.readyFile).catch(() => {});
  }

  const started: Spawned[] = [];
  let interrupted = false;
  const onSignal = () => interrupted = true;
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const deadline = Date.now() + options.timeout * 1000;
  try {
    started.push(spawnDetached({ ...plan.server, env }));
    let failure = await waitReady(started, deadline, options.timeout, () => interrupted);
    if (failure === undefined) {
      for (const g of plan.governors) started.push(spawnDetached({ ...g, env }));
      // Remote governors start in parallel; each gets the secret on its launcher's stdin.
      started.push(...await Promise.all(remotes.map((r) => spawnRemote(r, secret))));
      failure = await waitReady(started, deadline, options.timeout, () => interrupted);
    }
    if (failure !== undefined) {
      io.err(`rain: ${failure}\n`);
      const names = started.map((s) => `${s.plan.name} (pid ${s.pid})`).join(", ");
      io.err(`rain: start aborted; stopping what was started: ${names}\n`);
      await stopAll(shutdownOrder(started));
      return 1;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  for (const s of started) s.child.unref();
  const message = options.remote
    ? await remoteMessage(options, ctx.hostname, plan.connect, hosts, secret)
    : plan.message;
  io.out(message + "\n");
  if (secret !== undefined) {
    const path = join(
      secretsDir((n) => ctx.env(n)),
      secretKey(options.listen.host, options.listen.port),
    );
    io.out(
      `Cluster secret: clients of this user on this machine find it in ${path}; ` +
        `elsewhere give it as RAIN_SECRET (see docs/security.md)\n`,
    );
    // Monitoring needs the secret from anyone but this user's own tools: the Jupyter-style
    // address opens the dashboard in a browser (it sets a cookie and drops the token).
    const dashboard = formatAddress(dashboardHost(options.httpListen, ctx.hostname));
    io.out(
      `Dashboard (the address holds the secret: do not share it): ` +
        `http://${dashboard}/?token=${secret}\n`,
    );
  } else {
    io.out(
      "WARNING: authentication is off (--insecure): anyone who reaches the server can run " +
        "programs on every governor\n",
    );
  }
  return 0;
}

/** The address a browser opens for a listen address (this machine's name for a wildcard). */
function dashboardHost(listen: Address, hostname: string): Address {
  return { host: isWildcard(listen.host) ? hostname : listen.host, port: listen.port };
}
