/** `rain server`: runs until shut down (SIGTERM, SIGINT or `POST /api/v1/shutdown`). */
import type { ServerOptions } from "./options.ts";
export type { ServerOptions };

export function runServer(_options: ServerOptions): Promise<void> {
  return Promise.reject(new Error("server: being written"));
}
