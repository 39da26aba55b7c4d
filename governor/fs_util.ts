/**
 * File-system helpers of the governor: read-only trees, tree copies (hard links where the source
 * is immutable), tree sizes and robust removal of read-only trees.
 */
import { join } from "node:path";

/** Mode of a stored (read-only) file: keeps the executable bits of the source. */
export function readOnlyMode(sourceMode: number | null): number {
  return (sourceMode ?? 0) & 0o111 ? 0o555 : 0o444;
}

/** Mode of a user-facing (writable) copy of a file. */
export function writableMode(sourceMode: number | null): number {
  return (sourceMode ?? 0) & 0o111 ? 0o755 : 0o644;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound;
}

/** The message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** How `copyTree` creates files. */
export type CopyMode =
  /** Hard-link files (source is immutable, e.g. another stored object); copy if linking fails. */
  | "link"
  /** Copy files and make them read-only (source is a user directory). */
  | "readonly"
  /** Copy files with writable modes (export to a user path). */
  | "writable";

/**
 * Copies the tree `src` (a directory) into `dst`, which is created (or, for "writable", may exist:
 * then contents are merged and files overwritten, like `cp -rT`). Symlinks are copied as symlinks,
 * empty directories included. Directories are left writable (0755); see `makeDirsReadOnly`.
 * Returns the sum of the sizes of the regular files.
 */
export async function copyTree(src: string, dst: string, mode: CopyMode): Promise<number> {
  try {
    await Deno.mkdir(dst, { mode: 0o755 });
  } catch (e) {
    if (!(mode === "writable" && e instanceof Deno.errors.AlreadyExists)) throw e;
    const info = await Deno.lstat(dst);
    if (!info.isDirectory) throw new Error(`'${dst}' exists and is not a directory`);
  }
  let size = 0;
  for await (const entry of Deno.readDir(src)) {
    const s = join(src, entry.name);
    const d = join(dst, entry.name);
    if (entry.isSymlink) {
      const target = await Deno.readLink(s);
      if (mode === "writable") await Deno.remove(d).catch(() => {});
      await Deno.symlink(target, d);
    } else if (entry.isDirectory) {
      size += await copyTree(s, d, mode);
    } else if (entry.isFile) {
      size += await copyFile(s, d, mode);
    }
    // sockets, fifos and devices are skipped: they cannot be data
  }
  return size;
}

/** Copies one regular file; returns its size. */
export async function copyFile(src: string, dst: string, mode: CopyMode): Promise<number> {
  if (mode === "link") {
    try {
      await Deno.link(src, dst);
      return (await Deno.lstat(dst)).size;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) throw e;
      // another file system or no hard links: fall through to a copy
    }
  }
  if (mode === "writable") {
    // Replace rather than write through: the old file may be read-only or a hard link.
    await Deno.remove(dst).catch(() => {});
  }
  await Deno.copyFile(src, dst);
  const info = await Deno.lstat(dst);
  await Deno.chmod(dst, mode === "writable" ? writableMode(info.mode) : readOnlyMode(info.mode));
  return info.size;
}

/**
 * Makes every directory below `root` read-only (0555), deepest first. `root` itself is left
 * writable so that it can still be renamed into place; chmod it afterwards. Files are expected
 * to be read-only already (copyTree "link"/"readonly", tar extraction).
 */
export async function makeDirsReadOnly(root: string): Promise<void> {
  for await (const entry of Deno.readDir(root)) {
    if (entry.isDirectory) {
      const p = join(root, entry.name);
      await makeDirsReadOnly(p);
      await Deno.chmod(p, 0o555);
    }
  }
}

/** Sum of the sizes of the regular files below `root` (symlinks not followed). */
export async function treeSize(root: string): Promise<number> {
  let size = 0;
  for await (const entry of Deno.readDir(root)) {
    const p = join(root, entry.name);
    if (entry.isDirectory) size += await treeSize(p);
    else if (entry.isFile) size += (await Deno.lstat(p)).size;
  }
  return size;
}

async function makeDirsWritable(root: string): Promise<void> {
  await Deno.chmod(root, 0o755).catch(() => {});
  for await (const entry of Deno.readDir(root)) {
    if (entry.isDirectory) await makeDirsWritable(join(root, entry.name));
  }
}

/** Removes a file or a tree, also when its directories are read-only. Missing is fine. */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (e) {
    if (isNotFound(e)) return;
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    await makeDirsWritable(path);
    await Deno.remove(path, { recursive: true });
  }
}

/** A short reason for a file-system error (without Deno's "(os error N): op 'path'" tail). */
export function fsReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.AlreadyExists) return "already exists";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  if (e instanceof Deno.errors.NotADirectory) return "not a directory";
  return errorMessage(e);
}
