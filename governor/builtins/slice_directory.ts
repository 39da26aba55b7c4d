/**
 * `buildin/slice_directory`: takes one entry out of a directory input. A path ending in `/`
 * gives a subdirectory as a directory object, any other path a file as a blob. The entry must
 * exist, be of that kind and (through symlinks) stay inside the input directory; errors name the
 * path. Files are hard-linked (or read into memory when small), never copied needlessly.
 */
import { join } from "node:path";
import { copyFile, copyTree, fsReason, makeDirsReadOnly, removeTree } from "../fs_util.ts";
import { MEMORY_LIMIT, type StoredObject } from "../object_store.ts";
import { configString, type TaskContext } from "../task_context.ts";
import { relativePath } from "./make_directory.ts";
import { inputAt, outputAt } from "../task_args.ts";

export async function sliceDirectory(ctx: TaskContext): Promise<StoredObject[]> {
  const path = configString(ctx, "path");
  const wantDir = path.endsWith("/");
  const input = inputAt(ctx, 0);
  if (input.dataType !== "dir") throw new Error("slice_directory input must be a directory");
  const rel = wantDir && /^(\.\/?)+$/.test(path) ? "" : relativePath(path);
  const out = outputAt(ctx, 0);
  let source: string;
  let info: Deno.FileInfo;
  try {
    source = await Deno.realPath(join(input.path!, rel));
    const root = await Deno.realPath(input.path!);
    if (source !== root && !source.startsWith(root + "/")) {
      throw new Error("points outside the directory");
    }
    info = await Deno.stat(source);
  } catch (e) {
    throw new Error(`path '${path}' in the directory: ${fsReason(e)}`);
  }
  if (wantDir) {
    if (!info.isDirectory) throw new Error(`path '${path}' in the directory is not a directory`);
    const tmp = ctx.store.tempPath();
    let size: number;
    try {
      size = await copyTree(source, tmp, "link");
      await makeDirsReadOnly(tmp);
    } catch (e) {
      await removeTree(tmp).catch(() => {});
      throw new Error(`cannot slice '${path}': ${fsReason(e)}`);
    }
    return [await ctx.store.adopt(out, "dir", tmp, size)];
  }
  if (!info.isFile) {
    throw new Error(
      `path '${path}' in the directory is ${
        info.isDirectory ? "a directory (end the path with '/' to get it)" : "not a file"
      }`,
    );
  }
  if (info.size <= MEMORY_LIMIT) {
    return [ctx.store.putMemory(out, await Deno.readFile(source))];
  }
  const tmp = ctx.store.tempPath();
  try {
    await copyFile(source, tmp, "link");
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw new Error(`cannot slice '${path}': ${fsReason(e)}`);
  }
  return [await ctx.store.adopt(out, "blob", tmp, info.size)];
}
