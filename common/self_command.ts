/**
 * How this program re-invokes itself (`rain start` starts `rain server` and `rain governor`).
 *
 * The same code runs in three forms, and each needs a different command line:
 * - from source (`deno run … main.ts`, the `./rain` launcher): `deno run -A --no-check main.ts`,
 *   with the repository's deno.json (import map, node_modules, unstable flags) passed explicitly
 *   so that it works from any current directory;
 * - bundled (`deno run -A dist/rain.js`, made by `deno task bundle`): the bundle is
 *   self-contained, so it runs without any config file;
 * - compiled (`dist/rain`, made by `deno task compile`): the executable alone, its permissions
 *   and flags are baked in.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface SelfInfo {
  /** `Deno.execPath()`: the deno binary, or the compiled executable. */
  execPath: string;
  /** `Deno.mainModule` URL. */
  mainModule: string;
  /** `Deno.build.standalone`: running as a `deno compile`d executable. */
  standalone?: boolean;
  /** True when the (absolute) path is an existing file. */
  isFile(path: string): boolean;
}

export type SelfForm = "source" | "bundle" | "compiled" | "remote";

/**
 * V8 flags of every rain process (the `./rain` launcher and tools/compile.ts pass the same): V8
 * starts with a small old generation and runs full collections each time it fills, while a server
 * or a governor keeps growing a heap of long-lived tasks and objects. Starting it at 128 MiB (a
 * limit, not memory taken) cost the governor 8–9 instead of 11 µs of cpu per task of 100k
 * Concats and the server ~1 µs less (docs/architecture.md "Where the time goes").
 */
export const V8_FLAGS = "--initial-old-space-size=128";

const SOURCE_EXT = /\.(ts|tsx|mts|cts|jsx)$/;

/** Which of the three forms is running (plus a main module loaded by URL). */
export function selfForm(info: SelfInfo): SelfForm {
  // Older runtimes lack `Deno.build.standalone`; compiled main modules live under a
  // `deno-compile-<name>` virtual directory.
  if (info.standalone || /\/deno-compile-[^/]*\//.test(info.mainModule)) return "compiled";
  if (!info.mainModule.startsWith("file:")) return "remote";
  return SOURCE_EXT.test(fileURLToPath(info.mainModule)) ? "source" : "bundle";
}

/** The argv prefix that runs this same program; append `server …` / `governor …`. */
export function selfCommandFor(info: SelfInfo): string[] {
  const form = selfForm(info);
  if (form === "compiled") return [info.execPath];
  const run = [
    denoBinary(info, form),
    "run",
    "-A",
    "--unstable-worker-options",
    `--v8-flags=${V8_FLAGS}`,
  ];
  switch (form) {
    case "remote":
      return [...run, info.mainModule];
    case "bundle":
      return [...run, "--no-config", "--quiet", fileURLToPath(info.mainModule)];
    case "source": {
      const main = fileURLToPath(info.mainModule);
      const config = findConfig(dirname(main), info.isFile);
      return [...run, "--no-check", "--quiet", ...(config ? ["--config", config] : []), main];
    }
  }
}

/**
 * The deno binary to run. Normally the running one; but the first `deno run` after `npm install`
 * lets Deno re-lay out node_modules/, which deletes the running binary (its path then reads
 * `…/deno (deleted)`): then the repository's node_modules/.bin/deno, else `deno` from PATH.
 */
function denoBinary(info: SelfInfo, form: SelfForm): string {
  if (info.isFile(info.execPath)) return info.execPath;
  if (form === "source" || form === "bundle") {
    const main = fileURLToPath(info.mainModule);
    const root = form === "source" ? dirname(main) : dirname(dirname(main));
    const launcher = join(root, "node_modules", ".bin", "deno");
    if (info.isFile(launcher)) return launcher;
  }
  return "deno";
}

/** deno.json(c) of the directory holding the main module (the repository root). */
function findConfig(dir: string, isFile: (path: string) => boolean): string | undefined {
  for (const name of ["deno.json", "deno.jsonc"]) {
    const path = join(dir, name);
    if (isFile(path)) return path;
  }
  return undefined;
}

/** The argv prefix that runs this program, for the running process. */
export function selfCommand(): string[] {
  return selfCommandFor({
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
    standalone: (Deno.build as { standalone?: boolean }).standalone,
    isFile: (path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    },
  });
}
