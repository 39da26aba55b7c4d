/**
 * `rain governor`: runs until the server tells it to shut down (a dropped link to the server is
 * reconnected; it exits only if the server stays out of reach for a minute).
 */
import type { GovernorOptions } from "./options.ts";
import { Governor } from "./governor.ts";
import { Logger } from "../common/log.ts";
export type { GovernorOptions };
export { Governor };

const log = new Logger("governor");

/** The exit status of a process ended by SIGTERM (128 + 15), as a shell reports it. */
export const SIGTERM_EXIT_CODE = 143;

/**
 * Runs a governor. Resolves when it has shut down cleanly (a `shutdown` message, the end of the
 * server connection, SIGINT, or `stopWhen` settling): running work is killed and the work dir
 * cleaned. Rejects with a one-line error when it cannot start (e.g. the server is unreachable)
 * or when the server stayed out of reach after its link dropped (cleaned up too).
 *
 * SIGTERM ends the process at once, as it ended Rain 0.4's governor: its programs and executors
 * are killed, its work directory is left as it is (the next governor on it cleans it).
 */
export async function runGovernor(
  options: GovernorOptions,
  stopWhen?: Promise<unknown>,
): Promise<void> {
  const governor = new Governor(options);
  const onInterrupt = () => governor.stop();
  let terminating = false;
  const onTerminate = async () => {
    if (terminating) return;
    terminating = true;
    log.info(`SIGTERM: exiting at once, work dir ${options.workDir} left as it is`);
    try {
      await governor.killChildren();
    } finally {
      Deno.exit(SIGTERM_EXIT_CODE);
    }
  };
  const unix = Deno.build.os !== "windows";
  if (unix) {
    Deno.addSignalListener("SIGINT", onInterrupt);
    Deno.addSignalListener("SIGTERM", onTerminate);
  }
  stopWhen?.then(onInterrupt, onInterrupt);
  try {
    await governor.start();
    await governor.finished;
  } finally {
    if (unix) {
      Deno.removeSignalListener("SIGINT", onInterrupt);
      Deno.removeSignalListener("SIGTERM", onTerminate);
    }
  }
}
