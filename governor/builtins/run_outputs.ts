/**
 * Moves the outputs of a finished `buildin/run` program into the store.
 *
 * Every output is checked first (exists, is a file for a blob and a directory for a directory
 * object, does not lead out of the working directory), so a failing task stores nothing. Then,
 * deepest paths first:
 * - a file or directory is renamed into the store, made read-only (a small file is read into
 *   memory instead, like every small blob);
 * - one inside another output directory (`mydir/a` beside `mydir`) is hard-linked, not moved,
 *   so that the directory keeps it;
 * - one inside a read-only input directory (or that directory itself) is hard-linked (copied
 *   where linking fails): the input's directories are read-only, so nothing can be renamed out
 *   of them, and its files are the store's;
 * - a symbolic link is followed: a target in the working directory or the store is hard-linked,
 *   anything else copied;
 * - the standard output was captured while the program ran.
 * Each object gets the content type declared for its output.
 */
import { dirname, join } from "node:path";
import { STDOUT_PATH } from "../../common/builtin_tasks.ts";
import type { ObjectSpec } from "../../common/attributes.ts";
import {
  copyFile,
  copyTree,
  fsReason,
  makeDirsReadOnly,
  readOnlyMode,
  removeTree,
} from "../fs_util.ts";
import { MEMORY_LIMIT, type ObjectStore, type StoredObject } from "../object_store.ts";
import type { CapturedOutput } from "./run_program.ts";
import { assertInside } from "./run_inputs.ts";

/** How an output gets into the store. */
type Take =
  /** rename (it is the program's own file or directory) */
  | "move"
  /** hard links (the source is the program's or the store's and must stay where it is) */
  | "link"
  /** a copy (a symlink's target outside the working directory and the store) */
  | "copy";

interface Found {
  spec: ObjectSpec;
  path: string;
  /** The file or directory to take (the target of a symlink output). */
  source: string;
  size: number;
  take: Take;
  /** The source is in the working directory (so it may be made read-only in place). */
  ours: boolean;
}

export async function collectOutputs(
  store: ObjectStore,
  workDir: string,
  outPaths: string[],
  specs: ObjectSpec[],
  stdout: CapturedOutput | undefined,
  readOnlyInputDirs: string[] = [],
): Promise<StoredObject[]> {
  if (outPaths.length !== specs.length) {
    throw new Error(`${outPaths.length} output paths for ${specs.length} outputs`);
  }
  // Below, specs[i] exists for every index of outPaths (checked above).
  const dirOutputs = outPaths.filter((p, i) => specs[i]!.data_type === "dir" && p !== STDOUT_PATH);
  const within = (path: string, dirs: string[]) =>
    dirs.some((d) => path === d || path.startsWith(d + "/"));
  const found: (Found | undefined)[] = [];
  for (const [i, path] of outPaths.entries()) {
    if (path === STDOUT_PATH) {
      found.push(undefined);
      continue;
    }
    const keepSource = within(path, readOnlyInputDirs) ||
      dirOutputs.some((d) => path.startsWith(d + "/"));
    found.push(await find(store, workDir, path, specs[i]!, keepSource));
  }
  const stored = new Array<StoredObject>(outPaths.length);
  const order = [...outPaths.entries()].sort(([, a], [, b]) => b.length - a.length);
  for (const [i] of order) {
    const spec = specs[i]!;
    const f = found[i];
    if (f !== undefined) {
      stored[i] = await take(store, f);
    } else if (stdout!.data !== undefined) {
      stored[i] = store.putMemory(spec.id, stdout!.data, spec.content_type);
    } else {
      stored[i] = await store.adopt(spec.id, "blob", stdout!.file, stdout!.size, spec.content_type);
    }
  }
  return stored;
}

function describe(spec: ObjectSpec, path: string): string {
  return spec.label && spec.label !== path
    ? `output '${spec.label}' (path '${path}')`
    : `output '${path}'`;
}

async function find(
  store: ObjectStore,
  workDir: string,
  path: string,
  spec: ObjectSpec,
  keepSource: boolean,
): Promise<Found> {
  const name = describe(spec, path);
  const full = join(workDir, path);
  if (path.includes("/")) {
    try {
      await assertInside(workDir, dirname(full), path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
        throw new Error(`${name} was not created by the program`);
      }
      throw new Error(`${name}: ${fsReason(e)}`);
    }
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(full);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      throw new Error(`${name} was not created by the program`);
    }
    throw new Error(`${name}: ${fsReason(e)}`);
  }
  let found: Found = { spec, path, source: full, size: info.size, take: "move", ours: true };
  if (keepSource) found.take = "link";
  if (info.isSymlink) {
    let source: string;
    try {
      source = await Deno.realPath(full);
      info = await Deno.stat(source);
    } catch {
      throw new Error(`${name} is a symbolic link to nothing`);
    }
    const within = (root: string) => source === root || source.startsWith(root + "/");
    const ours = within(await Deno.realPath(workDir));
    const linkable = ours || within(await Deno.realPath(store.dataDir));
    found = { spec, path, source, size: info.size, take: linkable ? "link" : "copy", ours };
  }
  const want = spec.data_type === "dir" ? "a directory" : "a file";
  const is = info.isDirectory
    ? "a directory"
    : info.isFile
    ? "a file"
    : "neither a file nor a directory";
  if (is !== want) throw new Error(`${name} is ${is}, but ${want} was expected`);
  return found;
}

async function take(store: ObjectStore, f: Found): Promise<StoredObject> {
  const { spec } = f;
  try {
    return await (spec.data_type === "blob" ? takeFile(store, f) : takeDirectory(store, f));
  } catch (e) {
    throw new Error(`cannot store ${describe(spec, f.path)}: ${fsReason(e)}`);
  }
}

async function takeFile(store: ObjectStore, f: Found): Promise<StoredObject> {
  const { spec } = f;
  if (f.size <= MEMORY_LIMIT) {
    return store.putMemory(spec.id, await Deno.readFile(f.source), spec.content_type);
  }
  if (f.ours) {
    const info = await Deno.lstat(f.source);
    await Deno.chmod(f.source, readOnlyMode(info.mode));
  }
  if (f.take === "move") return store.adopt(spec.id, "blob", f.source, f.size, spec.content_type);
  const tmp = store.tempPath();
  try {
    await copyFile(f.source, tmp, f.take === "link" ? "link" : "readonly");
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw e;
  }
  return store.adopt(spec.id, "blob", tmp, undefined, spec.content_type);
}

async function takeDirectory(store: ObjectStore, f: Found): Promise<StoredObject> {
  const { spec } = f;
  const sealedSize = f.ours ? await sealTree(f.source) : 0;
  if (f.take === "move") {
    await Deno.chmod(f.source, 0o755); // renaming a directory needs it writable
    return store.adopt(spec.id, "dir", f.source, sealedSize);
  }
  const tmp = store.tempPath();
  let size: number;
  try {
    size = await copyTree(f.source, tmp, f.take === "link" ? "link" : "readonly");
    await makeDirsReadOnly(tmp);
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw e;
  }
  return store.adopt(spec.id, "dir", tmp, size);
}

/**
 * Makes a directory written by a program fit for the store: files read-only (executable bits
 * kept), subdirectories 0555 (the top one is made read-only by `adopt`). Symlinks are left as
 * they are. Returns the sum of the file sizes.
 */
export async function sealTree(root: string): Promise<number> {
  let size = 0;
  for await (const entry of Deno.readDir(root)) {
    const p = join(root, entry.name);
    if (entry.isDirectory) {
      size += await sealTree(p);
      await Deno.chmod(p, 0o555);
    } else if (entry.isFile) {
      const info = await Deno.lstat(p);
      await Deno.chmod(p, readOnlyMode(info.mode));
      size += info.size;
    }
  }
  return size;
}
