/**
 * Directories travel as tar archives. This packs a local directory (ustar, PAX records for long
 * names and large sizes) and unpacks a fetched one (ustar, PAX and GNU long names), refusing
 * entries that would land outside the target. Internal to the client.
 *
 * @module
 */
import { ByteReader, concatBytes } from "./framing.ts";
import { RainError } from "./errors.ts";

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One entry of an archive.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const dir = session.makeDirectory({ "a.txt": session.blob("A") }).output.keep();
 * await session.submit();
 * for (const entry of await (await dir.fetch()).entries()) {
 *   console.log(entry.type, entry.name, entry.data?.length); // "file a.txt 1"
 * }
 * ```
 */
export interface TarEntry {
  /** Relative path, `/`-separated, without a trailing `/`. */
  name: string;
  /** What it is. */
  type: "file" | "directory" | "symlink";
  /** Permission bits. */
  mode: number;
  /** Target of a symlink. */
  linkname?: string;
  /** Contents of a file. */
  data?: Uint8Array;
}

// --- packing -----------------------------------------------------------------------------------

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + encoder.encode(body).length !== length) {
    length++;
  }
  return `${length}${body}`;
}

function headerBlock(
  name: string,
  type: string,
  size: number,
  mode: number,
  mtime: number,
  linkname = "",
): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (text: string, offset: number, width: number) =>
    block.set(encoder.encode(text).subarray(0, width), offset);
  put(name, 0, 100);
  put(octal(mode & 0o7777, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(Math.max(0, Math.floor(mtime)), 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(octal(sum, 7) + " ", 148, 8);
  return block;
}

function padding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest === 0 ? 0 : BLOCK - rest);
}

function entryBlocks(
  name: string,
  type: string,
  mode: number,
  mtime: number,
  data: Uint8Array,
  linkname = "",
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const records: string[] = [];
  if (encoder.encode(name).length > 100) records.push(paxRecord("path", name));
  if (encoder.encode(linkname).length > 100) {
    records.push(paxRecord("linkpath", linkname));
  }
  if (records.length) {
    const pax = encoder.encode(records.join(""));
    out.push(
      headerBlock("PaxHeader", "x", pax.length, 0o644, mtime),
      pax,
      padding(pax.length),
    );
  }
  out.push(
    headerBlock(name, type, data.length, mode, mtime, linkname),
    data,
    padding(data.length),
  );
  return out;
}

/**
 * A tar archive of everything inside the local directory `root` (sorted, empty directories
 * included, symlinks kept as links), as one array.
 */
export async function packDirectory(
  root: string,
): Promise<Uint8Array<ArrayBuffer>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (e) {
    throw new RainError(
      `cannot read directory '${root}': ${(e as Error).message}`,
    );
  }
  if (!info.isDirectory) throw new RainError(`'${root}' is not a directory`);
  const parts: Uint8Array[] = [];
  await packInto(parts, root, "");
  parts.push(new Uint8Array(2 * BLOCK));
  return concatBytes(parts);
}

async function packInto(
  parts: Uint8Array[],
  dir: string,
  prefix: string,
): Promise<void> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  names.sort();
  for (const entryName of names) {
    const path = `${dir}/${entryName}`;
    const name = prefix + entryName;
    const info = await Deno.lstat(path);
    const mtime = (info.mtime?.getTime() ?? 0) / 1000;
    const mode = info.mode ?? 0o644;
    if (info.isSymlink) {
      const target = await Deno.readLink(path);
      parts.push(
        ...entryBlocks(name, "2", 0o777, mtime, new Uint8Array(0), target),
      );
    } else if (info.isDirectory) {
      parts.push(
        ...entryBlocks(name + "/", "5", mode | 0o700, mtime, new Uint8Array(0)),
      );
      await packInto(parts, path, name + "/");
    } else if (info.isFile) {
      parts.push(
        ...entryBlocks(
          name,
          "0",
          mode | 0o600,
          mtime,
          await Deno.readFile(path),
        ),
      );
    }
  }
}

// --- unpacking ---------------------------------------------------------------------------------

function field(block: Uint8Array, offset: number, width: number): string {
  const raw = block.subarray(offset, offset + width);
  const end = raw.indexOf(0);
  return decoder.decode(end < 0 ? raw : raw.subarray(0, end));
}

function numberField(block: Uint8Array, offset: number, width: number): number {
  // Header fields lie inside the 512-byte block: every index below is in range.
  if (block[offset]! & 0x80) {
    // GNU base-256 for large values.
    let value = 0;
    for (let i = offset + 1; i < offset + width; i++) {
      value = value * 256 + block[i]!;
    }
    return value;
  }
  const text = field(block, offset, width).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const length = parseInt(decoder.decode(data.subarray(i, space)), 10);
    if (!(length > 0) || i + length > data.length) break;
    const body = decoder.decode(data.subarray(space + 1, i + length)).replace(
      /\n$/,
      "",
    );
    const eq = body.indexOf("=");
    if (eq > 0) records.set(body.slice(0, eq), body.slice(eq + 1));
    i += length;
  }
  return records;
}

/** Reads the entries of an archive from `reader`; `onFile` gets each file's data as a stream. */
async function readEntries(
  reader: ByteReader,
  visit: (
    entry: TarEntry,
    body: ReadableStream<Uint8Array> | undefined,
  ) => Promise<void>,
): Promise<void> {
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.readOrEnd(BLOCK);
    if (block === null || block.every((b) => b === 0)) return;
    let size = numberField(block, 124, 12);
    const type = String.fromCharCode(block[156] || 48);
    if (type === "x" || type === "g" || type === "L" || type === "K") {
      const data = await reader.read(size);
      await reader.skip(padding(size).length);
      if (type === "x") pax = parsePax(data);
      else if (type === "L") longName = field(data, 0, data.length);
      else if (type === "K") longLink = field(data, 0, data.length);
      continue;
    }
    const prefix = field(block, 345, 155);
    let name = pax.get("path") ?? longName ??
      (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    const linkname = pax.get("linkpath") ?? longLink ?? field(block, 157, 100);
    if (pax.has("size")) size = Number(pax.get("size"));
    pax = new Map();
    longName = longLink = undefined;
    name = name.replace(/^\.\//, "").replace(/\/+$/, "");
    const mode = numberField(block, 100, 8);
    if (type === "0" || type === "7") {
      await visit({ name, type: "file", mode }, reader.rest(size));
      await reader.skip(padding(size).length);
    } else if (type === "5") {
      if (name !== "" && name !== ".") {
        await visit({ name, type: "directory", mode }, undefined);
      }
      await reader.skip(size + padding(size).length);
    } else if (type === "2") {
      await visit({ name, type: "symlink", mode, linkname }, undefined);
      await reader.skip(size + padding(size).length);
    } else {
      throw new RainError(
        `unsupported entry '${name}' (type ${type}) in directory archive`,
      );
    }
  }
}

function checkName(name: string): void {
  if (name.startsWith("/") || name.split("/").includes("..")) {
    throw new RainError(`unsafe path '${name}' in directory archive`);
  }
}

/** Every entry of an archive held in memory (file data included). */
export async function listEntries(archive: Uint8Array): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  await readEntries(
    new ByteReader(new Blob([archive as BlobPart]).stream()),
    async (entry, body) => {
      if (body) entry.data = await new ByteReader(body).readAll();
      entries.push(entry);
    },
  );
  return entries;
}

/**
 * Extracts an archive (a stream) into the new directory `target`, all of it writable by the
 * user. Absolute names, `..` and links pointing outside are refused.
 */
export async function extractTar(
  archive: ReadableStream<Uint8Array>,
  target: string,
): Promise<void> {
  await Deno.mkdir(target);
  await readEntries(new ByteReader(archive), async (entry, body) => {
    checkName(entry.name);
    const path = `${target}/${entry.name}`;
    const parent = path.slice(0, path.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    if (entry.type === "directory") {
      await Deno.mkdir(path, {
        recursive: true,
        mode: (entry.mode & 0o777) | 0o700,
      });
    } else if (entry.type === "symlink") {
      const link = entry.linkname ?? "";
      if (link.startsWith("/") || link.split("/").includes("..")) {
        throw new RainError(
          `unsafe link '${entry.name}' -> '${link}' in directory archive`,
        );
      }
      await Deno.symlink(link, path);
    } else {
      const file = await Deno.open(path, {
        write: true,
        createNew: true,
        mode: (entry.mode & 0o777) | 0o600,
      });
      await body!.pipeTo(file.writable);
    }
  });
}
