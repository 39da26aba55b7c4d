/**
 * Content types: which format a blob's bytes are in. Known types: `""` (raw), `pickle`,
 * `cloudpickle`, `json`, `cbor`, `arrow`, `text`, `text-<encoding>`, `mime/<type>`,
 * `user/<type>`, `protobuf` and `protobuf/<message>`. This client encodes and decodes `json` and
 * the `text` family; the others travel as bytes.
 *
 * @module
 */
import { RainError } from "./errors.ts";

const SIMPLE_TYPES = new Set([
  "pickle",
  "cloudpickle",
  "json",
  "cbor",
  "arrow",
  "text",
  "protobuf",
]);
const FAMILY_PREFIXES = ["text-", "mime/", "user/", "protobuf/"];

/**
 * True if `contentType` is a known content type (or empty / undefined).
 *
 * @example
 * ```ts
 * import { isContentType } from "@rain/client";
 * isContentType("json"); // true
 * isContentType("mime/image/png"); // true
 * isContentType("jpeg"); // false
 * ```
 */
export function isContentType(contentType: string | undefined | null): boolean {
  if (contentType === undefined || contentType === null || contentType === "") {
    return true;
  }
  if (typeof contentType !== "string") return false;
  if (SIMPLE_TYPES.has(contentType)) return true;
  return FAMILY_PREFIXES.some((p) => contentType.startsWith(p) && contentType.length > p.length);
}

/** Throws a `RainError` unless `contentType` is known. */
export function checkContentType(contentType: string | undefined | null): void {
  if (!isContentType(contentType)) {
    throw new RainError(`unknown content type ${JSON.stringify(contentType)}`);
  }
}

function isRefinement(general: string, specific: string): boolean {
  if (general === "pickle" && specific === "cloudpickle") return true;
  return specific.startsWith(general) && specific.length > general.length &&
    "-/".includes(specific.charAt(general.length));
}

/**
 * True if data of `contentType` may stand where `declared` is expected: anything fits an
 * unspecified type; otherwise the same type or a more specific member of its family
 * (`text-latin2` for `text`, `cloudpickle` for `pickle`).
 *
 * @example
 * ```ts
 * import { isSubtype } from "@rain/client";
 * isSubtype("text-latin2", "text"); // true
 * isSubtype("json", "text"); // false
 * ```
 */
export function isSubtype(
  contentType: string | undefined,
  declared: string | undefined,
): boolean {
  checkContentType(contentType);
  checkContentType(declared);
  if (!declared) return true;
  if (!contentType) return false;
  return contentType === declared || isRefinement(declared, contentType);
}

/** The text encoding of a `text` / `text-<encoding>` content type, or undefined. */
export function textEncoding(
  contentType: string | undefined,
): string | undefined {
  if (contentType === "text") return "utf-8";
  if (contentType?.startsWith("text-")) return contentType.slice(5);
  return undefined;
}

/** Serializes `value` as `contentType` (`json` or UTF-8 `text`; bytes pass through). */
export function encodeValue(value: unknown, contentType: string): Uint8Array {
  checkContentType(contentType);
  if (contentType === "json") {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new RainError("the value cannot be encoded as JSON");
    }
    return new TextEncoder().encode(text);
  }
  const encoding = textEncoding(contentType);
  if (encoding !== undefined) {
    if (typeof value !== "string") {
      throw new RainError(
        `content type '${contentType}' encodes a string, not ${typeof value}`,
      );
    }
    if (!/^utf-?8$/i.test(encoding)) {
      throw new RainError(
        `this client writes text as UTF-8 only; encode '${contentType}' yourself and pass bytes`,
      );
    }
    return new TextEncoder().encode(value);
  }
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new RainError(
    `this client cannot encode values as '${contentType}'; pass the encoded bytes`,
  );
}

/** Decodes `data` stored as `contentType` (`json` or the `text` family). */
export function decodeValue(
  data: Uint8Array,
  contentType: string | undefined,
): unknown {
  if (!contentType) {
    throw new RainError(
      "the data has no content type, so it cannot be decoded",
    );
  }
  if (contentType === "json") return JSON.parse(new TextDecoder().decode(data));
  const encoding = textEncoding(contentType);
  if (encoding !== undefined) return decodeText(data, encoding);
  throw new RainError(
    `content type '${contentType}' cannot be decoded by this client`,
  );
}

/** `data` as text in `encoding` (a WHATWG encoding label). */
export function decodeText(data: Uint8Array, encoding = "utf-8"): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding);
  } catch {
    throw new RainError(`unknown text encoding '${encoding}'`);
  }
  return decoder.decode(data);
}
