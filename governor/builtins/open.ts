/**
 * `buildin/open` (client `Load`): copies the file at an absolute path into a blob;
 * `buildin/open_dir` (client `LoadDir`): copies a directory tree into a directory object
 * (empty directories included, symlinks kept as symlinks). The copy is taken when the task runs,
 * so later changes of the source do not affect the object. Errors name the path.
 */
import { copyTree, fsReason, makeDirsReadOnly, removeTree } from "../fs_util.ts";
import { MEMORY_LIMIT, type StoredObject } from "../object_store.ts";
import { configAbsolutePath, type TaskContext } from "../task_context.ts";
import { outputAt } from "../task_args.ts";

async function statSource(path: string): Promise<Deno.FileInfo> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    throw new Error(`cannot open '${path}': ${fsReason(e)}`);
  }
}

export async function open(ctx: TaskContext): Promise<StoredObject[]> {
  const path = configAbsolutePath(ctx);
  const out = outputAt(ctx, 0);
  const info = await statSource(path);
  if (info.isDirectory) throw new Error(`cannot open '${path}': is a directory`);
  if (!info.isFile) throw new Error(`cannot open '${path}': not a regular file`);
  if (info.size <= MEMORY_LIMIT) {
    let data: Uint8Array;
    try {
      data = await Deno.readFile(path);
    } catch (e) {
      throw new Error(`cannot read '${path}': ${fsReason(e)}`);
    }
    return [await ctx.store.putBlob(out, data)];
  }
  const tmp = ctx.store.tempPath();
  try {
    await Deno.copyFile(path, tmp);
    await Deno.chmod(tmp, 0o444);
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw new Error(`cannot read '${path}': ${fsReason(e)}`);
  }
  return [await ctx.store.adopt(out, "blob", tmp)];
}

export async function openDir(ctx: TaskContext): Promise<StoredObject[]> {
  const path = configAbsolutePath(ctx);
  const out = outputAt(ctx, 0);
  const info = await statSource(path);
  if (!info.isDirectory) throw new Error(`cannot open '${path}': not a directory`);
  const tmp = ctx.store.tempPath();
  let size: number;
  try {
    size = await copyTree(path, tmp, "readonly");
    await makeDirsReadOnly(tmp);
  } catch (e) {
    await removeTree(tmp).catch(() => {});
    throw new Error(`cannot copy directory '${path}': ${fsReason(e)}`);
  }
  return [await ctx.store.adopt(out, "dir", tmp, size)];
}
