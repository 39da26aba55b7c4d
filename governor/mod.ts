/** `rain governor`: runs until the server tells it to shut down or its link to the server is lost. */
import type { GovernorOptions } from "./options.ts";
import { Governor } from "./governor.ts";
export type { GovernorOptions };
export { Governor };

/**
 * Runs a governor. Resolves when it has shut down cleanly (a `shutdown` message, SIGTERM or
 * SIGINT); rejects with a one-line error when it cannot start (e.g. the server is unreachable)
 * or when its link to the server is lost. Running work is killed and the work dir cleaned
 * either way.
 */
export async function runGovernor(options: GovernorOptions): Promise<void> {
  const governor = new Governor(options);
  const onSignal = () => governor.stop();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGTERM", "SIGINT"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    await governor.start();
    await governor.finished;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}
