/// <reference lib="dom" />
/** What every dashboard view is: an element and an update (called again every second while live). */
import type { Api } from "./api.ts";
import type { Meta } from "./types.ts";

export interface Ctx {
  api: Api;
  meta: Meta;
  /** Go to a `#/...` route. */
  navigate(hash: string): void;
}

export interface View {
  el: HTMLElement;
  /** Fetches and renders; resolves to true while the data may still change (keep polling). */
  update(): Promise<boolean>;
  destroy?(): void;
}

/** A session that may still change: open, or open with every task done (more may come). */
export function isActive(status: string): boolean {
  return status === "open" || status === "finished";
}
