/**
 * Data fetched from the server: in memory (`DataInstance`) or streamed (`DataStream`).
 *
 * @module
 */
import { decodeText, decodeValue, textEncoding } from "./content_type.ts";
import { RainError } from "./errors.ts";
import { ByteReader } from "./framing.ts";
import { extractTar, listEntries, type TarEntry } from "./tar.ts";
import type { DataType, FetchHeader, ObjectInfo, ObjectSpec } from "./types.ts";
import { formatId } from "./types.ts";

/**
 * What all fetched data carries: spec, info, data type, content type and size. The base of
 * `DataInstance` and `DataStream`.
 *
 * @example
 * ```ts
 * import { Client, type FetchedData } from "@rain/client";
 * function describe(data: FetchedData): string {
 *   return `${data.dataType} of ${data.size} bytes, content type ${data.contentType ?? "none"}`;
 * }
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob("hi").keep();
 * await session.submit();
 * console.log(describe(await obj.fetch())); // "blob of 2 bytes, content type text"
 * ```
 */
export abstract class FetchedData {
  /** The object's spec. */
  readonly spec: ObjectSpec;
  /** The object's info. */
  readonly info: ObjectInfo;
  /** `"blob"` or `"dir"` (a directory's data is a tar archive). */
  readonly dataType: DataType;
  /** Size of the data in bytes (approximate for directories). */
  readonly size: number;
  /** The content type set at run time, else the declared one. */
  readonly contentType: string | undefined;

  /** Fetched data described by `header`. */
  constructor(header: FetchHeader) {
    this.spec = header.spec;
    this.info = header.info ?? {};
    this.dataType = header.data_type ?? "blob";
    this.size = header.size;
    this.contentType = this.info.content_type || header.content_type ||
      this.spec.content_type ||
      undefined;
  }

  /** Throws unless this is a blob. */
  protected blobOnly(what: string): void {
    if (this.dataType !== "blob") {
      throw new RainError(
        `${what} needs a blob, but ${formatId(this.spec.id)} is a directory ` +
          "(use writeTo() or entries())",
      );
    }
  }
}

/**
 * Data of an object fetched into memory (`DataObject.fetch()`): bytes (a tar archive for a
 * directory), with the object's spec and info.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const obj = session.blob({ answer: 42 }, { encode: "json" }).keep();
 * await session.submit();
 * const data = await obj.fetch();
 * data.bytes(); // Uint8Array of the JSON text
 * data.json<{ answer: number }>().answer; // 42
 * ```
 */
export class DataInstance extends FetchedData {
  readonly #data: Uint8Array;

  /** Fetched data and its header. */
  constructor(header: FetchHeader, data: Uint8Array) {
    super(header);
    this.#data = data;
  }

  /** The data as bytes (a tar archive for a directory). */
  bytes(): Uint8Array {
    return this.#data;
  }

  /** The data as text, in the encoding of a `text-<encoding>` content type, else UTF-8. */
  text(): string {
    this.blobOnly("text()");
    return decodeText(this.#data, textEncoding(this.contentType) ?? "utf-8");
  }

  /** The data parsed as JSON. */
  json<T = unknown>(): T {
    this.blobOnly("json()");
    return JSON.parse(new TextDecoder().decode(this.#data)) as T;
  }

  /** The data decoded by its content type (`json` or `text…`); others throw. */
  load(): unknown {
    this.blobOnly("load()");
    return decodeValue(this.#data, this.contentType);
  }

  /** The entries of a directory (file data included). */
  entries(): Promise<TarEntry[]> {
    if (this.dataType !== "dir") {
      throw new RainError("entries() needs a directory");
    }
    return listEntries(this.#data);
  }

  /** Writes a blob to the file `path`, or extracts a directory to the new directory `path`. */
  async writeTo(path: string): Promise<void> {
    if (this.dataType === "dir") {
      await extractTar(new Blob([this.#data as BlobPart]).stream(), path);
    } else {
      await Deno.writeFile(path, this.#data);
    }
  }
}

/**
 * Data of an object as it streams in (`DataObject.fetchStream()`), for data too big to hold in
 * memory. Read `readable` once, or use `writeTo`; dispose it (or cancel `readable`) to stop early.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * const big = session.load("/data/big.bin").output.keep();
 * await session.submit();
 * await using stream = await big.fetchStream();
 * await stream.writeTo("/tmp/big.bin"); // streamed to disk, never held whole
 * ```
 */
export class DataStream extends FetchedData implements AsyncDisposable {
  /** The data: exactly `size` bytes for a blob, a tar stream for a directory. */
  readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;

  /** Streamed data after its header. */
  constructor(
    header: FetchHeader,
    readable: ReadableStream<Uint8Array<ArrayBuffer>>,
  ) {
    super(header);
    this.readable = readable;
  }

  /** Reads everything into a `DataInstance`. */
  async read(): Promise<DataInstance> {
    const data = await new ByteReader(this.readable).readAll();
    return new DataInstance(
      {
        id: this.spec.id[1],
        data_type: this.dataType,
        size: this.size,
        spec: this.spec,
        info: this.info,
        content_type: this.contentType,
      },
      data,
    );
  }

  /** Streams a blob into the file `path`, or extracts a directory to the new directory `path`. */
  async writeTo(path: string): Promise<void> {
    if (this.dataType === "dir") {
      await extractTar(this.readable, path);
    } else {
      const file = await Deno.open(path, {
        write: true,
        create: true,
        truncate: true,
      });
      await this.readable.pipeTo(file.writable);
    }
  }

  /** Stops reading (the rest of the data is not transferred). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.readable.locked) await this.readable.cancel().catch(() => {});
  }
}

/** Reads a fetch answer: the framed header, then the data. */
export async function readFetchBody(response: Response): Promise<DataStream> {
  if (!response.body) {
    throw new RainError("fetch answered without a body", "Connection");
  }
  const reader = new ByteReader(response.body);
  let header: FetchHeader;
  try {
    header = await reader.header<FetchHeader>();
  } catch (e) {
    await reader.cancel();
    throw e;
  }
  const dataType = header.data_type ?? "blob";
  const readable = dataType === "blob" ? reader.rest(header.size, true) : reader.rest();
  return new DataStream(header, readable);
}
