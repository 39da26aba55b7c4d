/**
 * Executor types of a governor: the built-in default `py` plus `[executors.<name>]` tables of the
 * governor's TOML config (`--config`):
 *
 * ```toml
 * [executors.example]
 * command = "/path/to/executor --flag"   # split like a shell would; or a list of strings
 * env = { SOME_VAR = "value" }           # optional, added to the executor's environment
 * start_timeout = 30                     # optional, seconds to wait for `register`
 * fork_server = false                    # optional: start each executor as a program
 * ```
 *
 * The default `py` is `python3 -m rain.executor`; a `[executors.py]` table overrides it.
 * Executors get `PYTHONPATH` with the `rain` Python package shipped with this program first
 * (found next to the program, see `rainPythonPath`), so the default works without installing
 * the client. A type whose command is `<python> -m rain.executor` is served by a fork server
 * (fork_server.ts) unless `fork_server = false`.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { shellSplit } from "../../cli/shlex.ts";
import { BUILDIN } from "../../common/builtin_tasks.ts";

export interface ExecutorConfig {
  name: string;
  /** Program and arguments. */
  command: string[];
  /** Extra environment variables. */
  env: Record<string, string>;
  /** Seconds to wait for the executor to register. */
  startTimeout: number;
  /** False: never fork this type from a fork server (fork_server.ts). */
  forkServer?: boolean;
}

export const PY_EXECUTOR = "py";
export const DEFAULT_PY_COMMAND = ["python3", "-m", "rain.executor"];
export const DEFAULT_START_TIMEOUT = 30;
const NAME = /^[A-Za-z0-9_.-]+$/;
const KEYS = new Set(["command", "env", "start_timeout", "fork_server"]);

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * The executor types of a parsed config (the whole TOML document) plus the defaults.
 * Throws an Error naming the offending entry.
 */
export function executorConfigs(
  toml: Record<string, unknown> = {},
  source = "config",
): Map<string, ExecutorConfig> {
  const out = new Map<string, ExecutorConfig>([[PY_EXECUTOR, {
    name: PY_EXECUTOR,
    command: DEFAULT_PY_COMMAND,
    env: {},
    startTimeout: DEFAULT_START_TIMEOUT,
  }]]);
  const table = toml.executors;
  if (table === undefined) return out;
  if (!isTable(table)) throw new Error(`${source}: 'executors' must be a table`);
  for (const [name, entry] of Object.entries(table)) {
    const where = `${source}: [executors.${name}]`;
    if (!NAME.test(name)) {
      throw new Error(`${where}: an executor name may only use letters, digits, '_', '.', '-'`);
    }
    if (name === BUILDIN) throw new Error(`${where}: '${BUILDIN}' is reserved`);
    if (!isTable(entry)) throw new Error(`${where} must be a table`);
    for (const key of Object.keys(entry)) {
      if (!KEYS.has(key)) {
        throw new Error(`${where}: unknown key '${key}' (known: ${[...KEYS].join(", ")})`);
      }
    }
    let command: string[];
    const c = entry.command;
    if (typeof c === "string") {
      try {
        command = shellSplit(c);
      } catch (e) {
        throw new Error(`${where}: command: ${e instanceof Error ? e.message : e}`);
      }
    } else if (Array.isArray(c) && c.every((x) => typeof x === "string")) {
      command = c as string[];
    } else {
      throw new Error(`${where}: 'command' must be a string or a list of strings`);
    }
    if (command.length === 0 || command[0] === "") {
      throw new Error(`${where}: 'command' is empty`);
    }
    const env: Record<string, string> = {};
    if (entry.env !== undefined) {
      if (!isTable(entry.env)) throw new Error(`${where}: 'env' must be a table of strings`);
      for (const [k, v] of Object.entries(entry.env)) {
        if (typeof v !== "string") throw new Error(`${where}: env.${k} must be a string`);
        env[k] = v;
      }
    }
    let startTimeout = DEFAULT_START_TIMEOUT;
    if (entry.start_timeout !== undefined) {
      const t = entry.start_timeout;
      if (typeof t !== "number" || !(t > 0) || !Number.isFinite(t)) {
        throw new Error(`${where}: 'start_timeout' must be a positive number of seconds`);
      }
      startTimeout = t;
    }
    const forkServer = entry.fork_server;
    if (forkServer !== undefined && typeof forkServer !== "boolean") {
      throw new Error(`${where}: 'fork_server' must be true or false`);
    }
    out.set(name, {
      name,
      command,
      env,
      startTimeout,
      ...(forkServer === false ? { forkServer } : {}),
    });
  }
  return out;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

let pythonPath: string | undefined | null = null;

/**
 * The directory holding the `rain` Python package of this program (`client_py`), or undefined.
 * Looked up next to the main module and up to two directories above it (source tree: next to
 * main.ts; bundle: dist/rain.js → ..; compiled: the extracted files), then relative to this
 * source file.
 */
export function rainPythonPath(): string | undefined {
  if (pythonPath !== null) return pythonPath;
  const candidates: string[] = [];
  try {
    if (Deno.mainModule.startsWith("file:")) {
      let dir = dirname(fileURLToPath(Deno.mainModule));
      for (let i = 0; i < 3; i++) {
        candidates.push(join(dir, "client_py"));
        dir = dirname(dir);
      }
    }
  } catch {
    // no main module (embedded use): only the fallback below
  }
  if (import.meta.url.startsWith("file:")) {
    candidates.push(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "client_py"));
  }
  pythonPath = candidates.find((c) => isFile(join(c, "rain", "executor", "__main__.py")));
  return pythonPath;
}
