/** `--cpus detect|N|-X` of `rain governor`. */
import os from "node:os";
import { UsageError } from "./errors.ts";
import { count } from "../common/plural.ts";

/** Number of cpus of this machine (at least 1). */
export function detectCpus(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  if (typeof n === "number" && n >= 1) return Math.floor(n);
  try {
    return Math.max(1, os.cpus().length);
  } catch {
    return 1;
  }
}

/**
 * Resolves a `--cpus` value: `detect` = all `detected` cpus, a positive `N`, or `-X` = `detected`
 * minus X (an error when nothing is left).
 */
export function parseCpus(text: string, detected: number, command = "governor"): number {
  const t = text.trim();
  if (t === "detect") return detected;
  if (/^\+?\d+$/.test(t)) {
    const n = Number(t);
    if (n < 1 || !Number.isSafeInteger(n)) {
      throw new UsageError(`--cpus must be at least 1 (got '${text}')`, command);
    }
    return n;
  }
  if (/^-\d+$/.test(t)) {
    const n = detected + Number(t);
    if (n < 1) {
      throw new UsageError(
        `--cpus=${t} leaves no cpu: only ${count(detected, "cpu")} detected`,
        command,
      );
    }
    return n;
  }
  throw new UsageError(
    `--cpus must be 'detect', a positive number N or a negative number -X (got '${text}')`,
    command,
  );
}
