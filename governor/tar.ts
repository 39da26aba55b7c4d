/**
 * Directories travel as tar archives (modern-tar, streamed both ways).
 *
 * - `packDirectory` walks a directory (sorted, so the archive is deterministic apart from mtimes)
 *   and emits entries lazily: file bodies are piped from disk with back-pressure, nothing is
 *   buffered whole. Names are relative (`a/b.txt`, directories end in `/`); long names use PAX.
 *   Modes are normalised to writable ones (0644/0755, executables 0755) so that a receiver gets a
 *   usable copy; symlinks are stored as symlinks.
 * - `extractTar` unpacks into a new directory as a *stored* object: files read-only (0444, or
 *   0555 if executable), directories made read-only by the caller. Entry names are checked:
 *   absolute names, `..` and writing through a symlink are rejected, so an archive cannot escape
 *   its directory. Archives are parsed strictly: a truncated archive is an error.
 */
import { createTarDecoder, createTarPacker, type TarPackController } from "modern-tar";
import { join } from "node:path";
import { readOnlyMode, writableMode } from "./fs_util.ts";

/** A tar stream of the contents of directory `root`. */
export function packDirectory(root: string): ReadableStream<Uint8Array> {
  const { readable, controller } = createTarPacker();
  (async () => {
    try {
      await packInto(controller, root, "");
      controller.finalize();
    } catch (e) {
      controller.error(e);
    }
  })();
  return readable;
}

async function packInto(controller: TarPackController, dir: string, prefix: string) {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const name = prefix + entry.name;
    const info = await Deno.lstat(path);
    const mtime = info.mtime ?? undefined;
    if (info.isSymlink) {
      const linkname = await Deno.readLink(path);
      await controller.add({ name, type: "symlink", size: 0, linkname, mode: 0o777, mtime })
        .close();
    } else if (info.isDirectory) {
      await controller.add({ name: name + "/", type: "directory", size: 0, mode: 0o755, mtime })
        .close();
      await packInto(controller, path, name + "/");
    } else if (info.isFile) {
      const body = controller.add({
        name,
        type: "file",
        size: info.size,
        mode: writableMode(info.mode),
        mtime,
      });
      if (info.size === 0) {
        await body.close();
      } else {
        const file = await Deno.open(path);
        await file.readable.pipeTo(body);
      }
    }
  }
}

/** Checks and normalises an entry name; "" for the root entry. */
function entryPath(name: string): string {
  if (name.startsWith("/")) throw new Error(`tar entry '${name}' has an absolute path`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new Error(`tar entry '${name}' contains '..'`);
  return parts.join("/");
}

/**
 * Extracts a tar stream into `dest` (created; must not exist). Files are created read-only;
 * directories stay writable (0755) — call `makeDirsReadOnly` afterwards. Returns the sum of the
 * file sizes.
 */
export async function extractTar(
  stream: ReadableStream<Uint8Array>,
  dest: string,
): Promise<number> {
  await Deno.mkdir(dest, { mode: 0o755 });
  /** What each extracted path is; parents must be directories we created. */
  const kinds = new Map<string, "dir" | "file" | "symlink">([["", "dir"]]);
  const ensureParent = async (rel: string, original: string) => {
    const parts = rel.split("/");
    let cur = "";
    for (const part of parts.slice(0, -1)) {
      cur = cur ? `${cur}/${part}` : part;
      const kind = kinds.get(cur);
      if (kind === undefined) {
        await Deno.mkdir(join(dest, cur), { mode: 0o755 });
        kinds.set(cur, "dir");
      } else if (kind !== "dir") {
        throw new Error(`tar entry '${original}' lies below a ${kind}`);
      }
    }
  };
  let size = 0;
  const entries = stream.pipeThrough(createTarDecoder({ strict: true }));
  for await (const entry of entries) {
    const { header } = entry;
    const type = header.type ?? "file";
    let rel: string;
    try {
      rel = entryPath(header.name);
    } catch (e) {
      await entry.body.cancel();
      throw e;
    }
    if (rel === "") {
      await entry.body.cancel();
      continue;
    }
    const path = join(dest, rel);
    await ensureParent(rel, header.name);
    if (kinds.has(rel)) {
      if (type === "directory" && kinds.get(rel) === "dir") {
        await entry.body.cancel();
        continue;
      }
      await entry.body.cancel();
      throw new Error(`tar entry '${header.name}' appears twice`);
    }
    if (type === "directory") {
      await entry.body.cancel();
      await Deno.mkdir(path, { mode: 0o755 });
      kinds.set(rel, "dir");
    } else if (type === "file") {
      const file = await Deno.open(path, {
        write: true,
        createNew: true,
        mode: readOnlyMode(header.mode ?? 0),
      });
      await entry.body.pipeTo(file.writable);
      kinds.set(rel, "file");
      size += header.size;
    } else if (type === "symlink") {
      await entry.body.cancel();
      await Deno.symlink(header.linkname ?? "", path);
      kinds.set(rel, "symlink");
    } else if (type === "link") {
      await entry.body.cancel();
      const target = entryPath(header.linkname ?? "");
      if (kinds.get(target) !== "file") {
        throw new Error(`tar entry '${header.name}' links to '${header.linkname}', not a file`);
      }
      await Deno.link(join(dest, target), path);
      kinds.set(rel, "file");
      size += (await Deno.lstat(path)).size;
    } else {
      await entry.body.cancel();
      throw new Error(`tar entry '${header.name}' has unsupported type '${type}'`);
    }
  }
  return size;
}
