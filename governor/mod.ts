/** `rain governor`: runs until the server tells it to shut down or its link to the server is lost. */
import type { GovernorOptions } from "./options.ts";
export type { GovernorOptions };

export function runGovernor(_options: GovernorOptions): Promise<void> {
  return Promise.reject(new Error("governor: being written"));
}
