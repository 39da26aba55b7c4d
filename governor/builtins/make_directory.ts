/**
 * `buildin/make_directory`: builds a directory from its inputs, input i placed at the relative
 * path `config.paths[i]` (parent directories are created). A blob becomes a file, a directory
 * input becomes a subdirectory. Files are hard links to the stored inputs (no copy).
 * Errors name the offending path.
 */
import { dirname, join, posix } from "node:path";
import { checkRelativePath } from "../../common/builtin_tasks.ts";
import { copyFile, copyTree, fsReason, makeDirsReadOnly, removeTree } from "../fs_util.ts";
import type { StoredObject } from "../object_store.ts";
import type { TaskContext } from "../task_context.ts";
import { inputAt, outputAt } from "../task_args.ts";

/** Normalises a relative path inside a directory; throws naming it if invalid. */
export function relativePath(path: string): string {
  const err = checkRelativePath(path);
  if (err) throw new Error(err);
  const norm = posix.normalize(path).replace(/\/+$/, "");
  if (norm === "." || norm === "" || norm.startsWith("../")) {
    throw new Error(`path '${path}' does not name an entry inside the directory`);
  }
  return norm;
}

export async function makeDirectory(ctx: TaskContext): Promise<StoredObject[]> {
  const c = ctx.config;
  const paths = typeof c === "object" && c !== null && !Array.isArray(c) ? c.paths : undefined;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
    throw new Error("config must be {paths: string[]}");
  }
  if (paths.length !== ctx.inputs.length) {
    throw new Error(`config has ${paths.length} paths for ${ctx.inputs.length} inputs`);
  }
  const rels = (paths as string[]).map(relativePath);
  const tmp = ctx.store.tempPath();
  let size = 0;
  try {
    await Deno.mkdir(tmp, { mode: 0o755 });
    for (const [i, rel] of rels.entries()) {
      ctx.signal.throwIfAborted();
      const input = inputAt(ctx, i);
      const target = join(tmp, rel);
      try {
        await Deno.mkdir(dirname(target), { recursive: true, mode: 0o755 });
        if (input.dataType === "dir") {
          await Deno.lstat(target).then(
            () => {
              throw new Deno.errors.AlreadyExists();
            },
            () => {},
          );
          await copyTree(input.path!, target, "link");
        } else if (input.data !== undefined) {
          await Deno.writeFile(target, input.data, { createNew: true, mode: 0o444 });
        } else {
          await copyFile(input.path!, target, "link");
        }
      } catch (e) {
        throw new Error(`cannot place input at path '${paths[i]}': ${fsReason(e)}`);
      }
      size += input.size;
    }
    await makeDirsReadOnly(tmp);
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw e;
  }
  return [await ctx.store.adopt(outputAt(ctx, 0), "dir", tmp, size)];
}
