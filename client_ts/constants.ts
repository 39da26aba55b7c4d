/**
 * Constant objects of a session's graph: blobs from values, files and directories.
 *
 * @module
 */
import { checkContentType, encodeValue, textEncoding } from "./content_type.ts";
import { RainError } from "./errors.ts";
import { checkOpen, objectState } from "./internal.ts";
import type { Session } from "./session.ts";
import { packDirectory } from "./tar.ts";
import { DataObject, describe } from "./data.ts";

/**
 * Options of a constant blob.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.blob("plain text"); // content type "text", label "const"
 * session.blob([1, 2, 3], { encode: "json", label: "numbers" });
 * session.blob(new Uint8Array([137, 80]), { contentType: "mime/image/png" });
 * ```
 */
export interface BlobOptions {
  /** Label of the object (default `"const"`). */
  label?: string;
  /** Content type of the data (a string value defaults to `"text"`). */
  contentType?: string;
  /** Serializes the value: `"json"`, or `"text"` (UTF-8); sets the content type. */
  encode?: string;
}

/**
 * A value a constant blob can be made of.
 *
 * @example
 * ```ts
 * import { Client } from "@rain/client";
 * await using client = await Client.connect();
 * await using session = await client.newSession();
 * session.blob(new Uint8Array([1, 2])); // bytes as they are
 * session.blob("text"); // UTF-8 text
 * session.blob({ any: "value" }, { encode: "json" }); // serialized
 * ```
 */
export type BlobValue = Uint8Array | ArrayBuffer | string | unknown;

/** A constant blob in `session` (see `Session.blob`). */
export function makeBlob(
  session: Session,
  value: BlobValue,
  options: BlobOptions = {},
): DataObject {
  let contentType = options.contentType;
  let data: Uint8Array;
  if (options.encode !== undefined) {
    if (contentType !== undefined && contentType !== options.encode) {
      throw new RainError(
        `contentType '${contentType}' contradicts encode '${options.encode}'`,
      );
    }
    contentType = options.encode;
    data = encodeValue(value, options.encode);
  } else if (typeof value === "string") {
    contentType ||= "text";
    checkContentType(contentType);
    data = encodeValue(
      value,
      textEncoding(contentType) !== undefined ? contentType : "text",
    );
  } else if (value instanceof Uint8Array) {
    data = value;
  } else if (value instanceof ArrayBuffer) {
    data = new Uint8Array(value);
  } else {
    throw new RainError(
      `blob() needs bytes or a string, not ${describe(value)} (use encode: "json")`,
    );
  }
  const obj = new DataObject(session, {
    label: options.label ?? "const",
    dataType: "blob",
    contentType,
  });
  objectState(obj).constant = data;
  return obj;
}

/** A constant blob read from a local file when submitted (streamed, never held whole). */
export async function makeFileBlob(
  session: Session,
  path: string,
  options: { label?: string; contentType?: string } = {},
): Promise<DataObject> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new RainError(`cannot read '${path}': ${(e as Error).message}`);
  }
  if (!info.isFile) throw new RainError(`'${path}' is not a file`);
  const obj = new DataObject(session, {
    label: options.label ?? "const",
    dataType: "blob",
    contentType: options.contentType,
  });
  objectState(obj).constant = { path, size: info.size };
  return obj;
}

/** A constant directory: the local directory `path` packed as a tar archive. */
export async function makeDirectory(
  session: Session,
  path: string,
  options: { label?: string } = {},
): Promise<DataObject> {
  checkOpen(session);
  const data = await packDirectory(path);
  const obj = new DataObject(session, {
    label: options.label ?? "const_dir",
    dataType: "dir",
  });
  objectState(obj).constant = data;
  return obj;
}
