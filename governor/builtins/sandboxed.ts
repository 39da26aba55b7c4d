/**
 * `Load` (`buildin/open`), `LoadDir` (`buildin/open_dir`) and `Store` (`buildin/export`) for a
 * governor whose permissions restrict reading or writing (governor/permissions.ts): the same
 * behaviour and messages as open.ts and export.ts, with every access to the user's path done in
 * the sandbox worker, where Deno enforces the limits. A refused access fails the task with a
 * message naming the path.
 */
import { fsReason } from "../fs_util.ts";
import { MEMORY_LIMIT, type StoredObject } from "../object_store.ts";
import { PermissionViolation, type Sandbox } from "../sandbox.ts";
import { configAbsolutePath, type TaskContext, type TaskFn } from "../task_context.ts";
import { inputAt, outputAt } from "../task_args.ts";

function reason(e: unknown): string {
  return e instanceof PermissionViolation ? e.message : fsReason(e);
}

export function sandboxedOpen(sandbox: Sandbox): TaskFn {
  return async (ctx: TaskContext): Promise<StoredObject[]> => {
    const path = configAbsolutePath(ctx);
    const out = outputAt(ctx, 0);
    const tmp = ctx.store.tempPath();
    let loaded;
    try {
      loaded = await sandbox.loadFile(path, tmp, MEMORY_LIMIT);
    } catch (e) {
      throw new Error(`cannot open '${path}': ${reason(e)}`);
    }
    if (loaded.data !== undefined) return [await ctx.store.putBlob(out, loaded.data)];
    return [await ctx.store.adopt(out, "blob", tmp)];
  };
}

export function sandboxedOpenDir(sandbox: Sandbox): TaskFn {
  return async (ctx: TaskContext): Promise<StoredObject[]> => {
    const path = configAbsolutePath(ctx);
    const out = outputAt(ctx, 0);
    const tmp = ctx.store.tempPath();
    let size: number;
    try {
      size = await sandbox.loadDir(path, tmp);
    } catch (e) {
      throw new Error(`cannot open '${path}': ${reason(e)}`);
    }
    return [await ctx.store.adopt(out, "dir", tmp, size)];
  };
}

export function sandboxedExport(sandbox: Sandbox): TaskFn {
  return async (ctx: TaskContext): Promise<StoredObject[]> => {
    const path = configAbsolutePath(ctx);
    const input = inputAt(ctx, 0);
    try {
      if (input.dataType === "dir") await sandbox.storeDir(input.path!, path);
      else if (input.data !== undefined) await sandbox.storeBlob(path, { data: input.data });
      else await sandbox.storeBlob(path, { src: input.path! });
    } catch (e) {
      throw new Error(`cannot export to '${path}': ${reason(e)}`);
    }
    return [];
  };
}
