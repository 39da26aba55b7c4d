/**
 * What command-line parsing needs to know about the machine and process. Parsing takes it as an
 * argument so that it stays pure and testable; `realContext()` reads the real values.
 */
import os from "node:os";
import { detectCpus } from "./cpus.ts";

export interface CliContext {
  hostname: string;
  pid: number;
  /** Relative paths on the command line are resolved against this. */
  cwd: string;
  detectedCpus: number;
  env(name: string): string | undefined;
  /** True when `path` (absolute) is an existing regular file (or a link to one). */
  isFile(path: string): boolean;
}

export function realContext(): CliContext {
  let cpus: number | undefined;
  return {
    hostname: hostname(),
    pid: Deno.pid,
    cwd: Deno.cwd(),
    get detectedCpus() {
      return cpus ??= detectCpus();
    },
    env: (name) => Deno.env.get(name),
    isFile: (path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    },
  };
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return os.hostname() || "localhost";
  }
}
