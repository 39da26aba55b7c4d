/**
 * What a task asks for (docs/resources.md): cpus, memory, gpus, custom → `spec.resources`.
 *
 * @module
 */
import { RainError } from "./errors.ts";
import type { TaskSpec } from "./types.ts";

/**
 * What a task asks for (docs/resources.md); the server never oversubscribes a governor and
 * rejects a submit whose task no governor can ever run.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.execute("nvidia-smi", { gpus: 1, memory: "4GiB", resources: { licence: 1 } });
 * ```
 */
export interface ResourceOptions {
  /** Cpus the task needs (a positive integer, default 1). */
  cpus?: number;
  /** Memory: bytes, or a size such as `"4GiB"`, `"512MB"`. */
  memory?: number | string;
  /** Gpus: a whole number of devices, or a fraction ≤ 1 of one (e.g. `0.25` shares one). */
  gpus?: number;
  /** Custom summed resources the governors offer (`--resources`), e.g. `{ licence: 1 }`. */
  resources?: Record<string, number>;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Bytes from a number or a size string (`"4GiB"`, `"512MB"`); throws a `RainError`.
 *
 * @example
 * ```ts
 * import { parseSize } from "@rain/client";
 * console.log(parseSize("1.5GiB")); // 1610612736
 * ```
 */
export function parseSize(size: number | string): number {
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) return size;
  const m = typeof size === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(size) : null;
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new RainError(
      `memory must be bytes or a size such as '4GiB', not ${JSON.stringify(size)}`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}

/** What a task asks for by default, shared by the tasks that do (copied into a spec). */
const ONE_CPU: TaskSpec["resources"] = Object.freeze({ cpus: 1 });

export function copyResources(r: TaskSpec["resources"]): TaskSpec["resources"] {
  const out = { ...r };
  if (r.custom) out.custom = { ...r.custom };
  return out;
}

/** `spec.resources` of a task, checked (a `RainError` names the bad value). */
export function makeResources(options: ResourceOptions): TaskSpec["resources"] {
  if (
    options.cpus === undefined && options.memory === undefined && options.gpus === undefined &&
    options.resources === undefined
  ) return ONE_CPU;
  const cpus = options.cpus ?? 1;
  if (!Number.isSafeInteger(cpus) || cpus < 1) {
    throw new RainError(`cpus must be a positive integer, not ${JSON.stringify(cpus)}`);
  }
  const out: TaskSpec["resources"] = { cpus };
  if (options.memory !== undefined) {
    const bytes = parseSize(options.memory);
    if (bytes > 0) out.memory = bytes;
  }
  const gpus = options.gpus;
  if (gpus !== undefined && gpus !== 0) {
    const ok = typeof gpus === "number" && gpus > 0 &&
      (Number.isSafeInteger(gpus) || (gpus < 1 && Number.isInteger(Math.round(gpus * 1e4))));
    if (!ok) {
      throw new RainError(
        `gpus must be a whole number of gpus or a fraction of one (e.g. 0.25), not ${
          JSON.stringify(gpus)
        }`,
      );
    }
    out.gpus = Number.isSafeInteger(gpus) ? gpus : Math.round(gpus * 1e4) / 1e4;
  }
  const custom: Record<string, number> = {};
  for (const [name, amount] of Object.entries(options.resources ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || ["cpus", "memory", "gpus"].includes(name)) {
      throw new RainError(`'${name}' is not a custom resource name`);
    }
    if (typeof amount !== "number" || !(amount >= 0) || !Number.isFinite(amount)) {
      throw new RainError(
        `resource '${name}' needs a non-negative amount, not ${JSON.stringify(amount)}`,
      );
    }
    if (amount > 0) custom[name] = amount;
  }
  if (Object.keys(custom).length > 0) out.custom = custom;
  return out;
}
