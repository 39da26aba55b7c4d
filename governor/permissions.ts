/**
 * Governor permissions (docs/security.md): which paths `Load`/`LoadDir` may read, where `Store`
 * may write and which programs `Execute` may run. Set in the governor's TOML config
 *
 * ```toml
 * [permissions]
 * read = ["/data", "/scratch/in"]   # Load, LoadDir
 * write = ["/scratch/out"]          # Store
 * run = ["python3", "/opt/tools/bin/align"]   # Execute (names are looked up in PATH)
 * ```
 *
 * and/or with `--allow-read=A,B`, `--allow-write=…`, `--allow-run=…` (lists of both are merged).
 * A kind without a list is unrestricted (Rain 0.4); the governor's work dir is always allowed.
 * Relative paths are relative to the config file's directory (flags: the current directory).
 *
 * Enforcement is Deno's: when anything is restricted, those tasks do their file work and start
 * their programs in a `Sandbox` worker holding exactly these permissions.
 */
import { parse as parseToml } from "smol-toml";
import { dirname, resolve } from "node:path";
import { sandboxedExport, sandboxedOpen, sandboxedOpenDir } from "./builtins/sandboxed.ts";
import type { GovernorOptions, PermissionLists } from "./options.ts";
import { Sandbox } from "./sandbox.ts";
import type { TaskContext, TaskFn } from "./task_context.ts";
import { Logger } from "../common/log.ts";

const log = new Logger("governor");

const KINDS = ["read", "write", "run"] as const;
type Kind = typeof KINDS[number];

/** Normalizes one list: paths made absolute against `base`; bare program names kept. */
export function normalizeList(kind: Kind, entries: string[], base: string): string[] {
  return entries.map((e) => {
    if (kind === "run" && !e.includes("/")) return e;
    return resolve(base, e);
  });
}

/** Splits a flag value `A,B,C` (empty: an empty list). */
export function splitFlag(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** The `[permissions]` table of a parsed config, or `{}`; throws naming the bad entry. */
export function permissionsFromToml(
  toml: Record<string, unknown>,
  source: string,
): PermissionLists {
  const table = toml.permissions;
  if (table === undefined) return {};
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new Error(`${source}: 'permissions' must be a table`);
  }
  const out: PermissionLists = {};
  for (const [key, value] of Object.entries(table)) {
    if (!(KINDS as readonly string[]).includes(key)) {
      throw new Error(
        `${source}: [permissions]: unknown key '${key}' (known: ${KINDS.join(", ")})`,
      );
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
      throw new Error(`${source}: [permissions] ${key} must be a list of non-empty strings`);
    }
    out[key as Kind] = normalizeList(key as Kind, value as string[], dirname(source));
  }
  return out;
}

/** Union of two sets of lists (a kind stays unrestricted only if neither restricts it). */
export function mergeLists(a: PermissionLists, b: PermissionLists): PermissionLists {
  const out: PermissionLists = {};
  for (const kind of KINDS) {
    if (a[kind] === undefined && b[kind] === undefined) continue;
    out[kind] = [...new Set([...(a[kind] ?? []), ...(b[kind] ?? [])])];
  }
  return out;
}

export class GovernorPermissions {
  readonly #options: GovernorOptions;
  #lists: PermissionLists = {};
  #sandbox: Sandbox | undefined;

  constructor(options: GovernorOptions) {
    this.#options = options;
  }

  /** The effective lists (after `start`). */
  get lists(): PermissionLists {
    return this.#lists;
  }

  get sandbox(): Sandbox | undefined {
    return this.#sandbox;
  }

  /** Reads `[permissions]` of the config and starts the sandbox if anything is restricted. */
  async start(): Promise<void> {
    const o = this.#options;
    let fromConfig: PermissionLists = {};
    if (o.configFile !== undefined) {
      let toml: Record<string, unknown>;
      try {
        toml = parseToml(await Deno.readTextFile(o.configFile));
      } catch (e) {
        throw new Error(`config file '${o.configFile}': ${(e as Error).message}`);
      }
      fromConfig = permissionsFromToml(toml, o.configFile);
    }
    this.#lists = mergeLists(fromConfig, o.permissions ?? {});
    const l = this.#lists;
    if (l.read === undefined && l.write === undefined && l.run === undefined) return;
    const work = resolve(o.workDir);
    this.#sandbox = new Sandbox({
      read: l.read === undefined ? true : [...l.read, work],
      write: l.write === undefined ? true : [...l.write, work],
      run: l.run ?? true,
    }, (kind) => this.describe(kind));
    log.info(
      `permissions: ${
        KINDS.map((k) => `${k} ${l[k] === undefined ? "unrestricted" : this.describe(k)}`)
          .join("; ")
      }`,
    );
  }

  /** What is allowed of `kind`, for messages. */
  describe(kind: Kind): string {
    const list = this.#lists[kind];
    if (list === undefined) return "everything";
    if (kind === "run") return list.length ? list.join(", ") : "no program";
    return [...list, `the work dir ${this.#options.workDir}`].join(", ");
  }

  /**
   * The built-ins with `Load`, `LoadDir`, `Store` and `Execute` going through the sandbox when
   * their kind is restricted (decided per call: the lists are known after `start`).
   */
  wrap(builtins: Map<string, TaskFn>): Map<string, TaskFn> {
    const out = new Map(builtins);
    const through = (
      name: string,
      kind: Kind,
      sandboxed: (sandbox: Sandbox) => TaskFn,
    ) => {
      const plain = builtins.get(name);
      if (plain === undefined) return;
      let fn: TaskFn | undefined;
      out.set(name, (ctx) => {
        const sandbox = this.#sandbox;
        if (sandbox === undefined || this.#lists[kind] === undefined) return plain(ctx);
        return (fn ??= sandboxed(sandbox))(ctx);
      });
    };
    through("open", "read", sandboxedOpen);
    through("open_dir", "read", sandboxedOpenDir);
    through("export", "write", sandboxedExport);
    // Execute: the task runs as usual, its program is started from the sandbox.
    through("run", "run", (sandbox) => (ctx: TaskContext) => {
      (ctx as { spawn?: TaskContext["spawn"] }).spawn = sandbox.spawn;
      return builtins.get("run")!(ctx);
    });
    return out;
  }

  close(): void {
    this.#sandbox?.close();
  }
}
