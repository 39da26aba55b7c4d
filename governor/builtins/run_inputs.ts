/**
 * Places the inputs of a `buildin/run` task in its fresh working directory.
 *
 * - Read-only (the default): a file is a hard link to the stored object (no copy, whatever its
 *   size; the stored file is read-only, so the program cannot change it without changing
 *   permissions first). A blob held in memory is written as a read-only file. A directory is a
 *   real directory (not a symlink): a tree of hard links to the stored files, its directories
 *   read-only too.
 * - `write: true`: a private writable copy (file or directory tree).
 * - `+in`: not placed; the object is fed to the standard input (returned to the caller).
 *
 * Parent directories of nested paths (`a/b/c`) are created; a path that would lead out of the
 * working directory (through a symlink inside an input directory) is refused, naming it.
 */
import { dirname, join } from "node:path";
import type { RunInputPath } from "../../common/builtin_tasks.ts";
import { STDIN_PATH } from "../../common/builtin_tasks.ts";
import { formatId } from "../../common/ids.ts";
import { copyFile, copyTree, fsReason, makeDirsReadOnly } from "../fs_util.ts";
import type { StoredObject } from "../object_store.ts";

/** Places every input; returns the object for the standard input, if any. */
export async function placeInputs(
  workDir: string,
  paths: RunInputPath[],
  inputs: StoredObject[],
  labels: (string | undefined)[],
): Promise<StoredObject | undefined> {
  if (paths.length !== inputs.length) {
    throw new Error(`${paths.length} input paths for ${inputs.length} inputs`);
  }
  let stdin: StoredObject | undefined;
  for (const [i, { path, write }] of paths.entries()) {
    const input = inputs[i]!; // as many as paths: checked above
    if (path === STDIN_PATH) {
      stdin = input;
      continue;
    }
    try {
      await placeInput(workDir, path, input, write === true);
    } catch (e) {
      const name = labels[i] ? `'${labels[i]}'` : formatId(input.id);
      throw new Error(`cannot place input ${name} at '${path}': ${fsReason(e)}`);
    }
  }
  return stdin;
}

async function placeInput(
  workDir: string,
  path: string,
  input: StoredObject,
  write: boolean,
): Promise<void> {
  const target = join(workDir, path);
  if (path.includes("/")) {
    const parent = dirname(target);
    await Deno.mkdir(parent, { recursive: true, mode: 0o755 });
    await assertInside(workDir, parent, path);
  }
  if (input.dataType === "dir") {
    if (write) {
      await copyTree(input.path!, target, "writable");
    } else {
      await copyTree(input.path!, target, "link");
      await makeDirsReadOnly(target);
      await Deno.chmod(target, 0o555);
    }
  } else if (input.data !== undefined) {
    await Deno.writeFile(target, input.data, { createNew: true, mode: write ? 0o644 : 0o444 });
  } else if (write) {
    await Deno.lstat(target).then(
      () => {
        throw new Deno.errors.AlreadyExists();
      },
      () => {},
    );
    await copyFile(input.path!, target, "writable");
  } else {
    await copyFile(input.path!, target, "link");
  }
}

/** Throws unless `dir` (resolved) is inside `root` (resolved). */
export async function assertInside(root: string, dir: string, path: string): Promise<void> {
  const [realRoot, realDir] = await Promise.all([Deno.realPath(root), Deno.realPath(dir)]);
  if (realDir !== realRoot && !realDir.startsWith(realRoot + "/")) {
    throw new Error(`path '${path}' leads out of the working directory`);
  }
}
