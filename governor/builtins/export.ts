/**
 * `buildin/export` (client `Store`): writes its input to an absolute path.
 *
 * Like `cp`: a blob replaces the contents of an existing file at the path (writing through, the
 * file keeps its mode; a new file gets 0644) and a directory is copied into the path, creating it
 * or merging into an existing directory (`cp -rT`), overwriting files. The parent directory must
 * exist. The copy is writable (files 0644, executables 0755, directories 0755) and never shares
 * storage with the governor. Errors name the path.
 */
import { copyTree, fsReason } from "../fs_util.ts";
import type { StoredObject } from "../object_store.ts";
import { configAbsolutePath, type TaskContext } from "../task_context.ts";
import { inputAt } from "../task_args.ts";

export async function exportTask(ctx: TaskContext): Promise<StoredObject[]> {
  const path = configAbsolutePath(ctx);
  const input = inputAt(ctx, 0);
  try {
    if (input.dataType === "dir") {
      await copyTree(input.path!, path, "writable");
    } else {
      const existing = await Deno.stat(path).catch(() => undefined);
      if (existing?.isDirectory) throw new Deno.errors.IsADirectory();
      if (input.data !== undefined) {
        await Deno.writeFile(path, input.data);
      } else {
        const dst = await Deno.open(path, { write: true, create: true, truncate: true });
        let src: Deno.FsFile;
        try {
          src = await Deno.open(input.path!);
        } catch (e) {
          dst.close();
          throw e;
        }
        await src.readable.pipeTo(dst.writable, { signal: ctx.signal });
      }
    }
  } catch (e) {
    throw new Error(`cannot export to '${path}': ${fsReason(e)}`);
  }
  return [];
}
