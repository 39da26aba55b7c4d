/**
 * Reading the client API's requests: bounded JSON bodies, path parameters and id lists, each
 * refused with a `BadRequest` that names what is wrong.
 */
import type { Context } from "hono";
import type { Id } from "../common/ids.ts";
import { ApiError } from "./errors.ts";

/** The body as text, refused (BadRequest) beyond `limit` bytes before it is all read. */
async function limitedText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  const tooLarge = () =>
    new ApiError("BadRequest", `request body larger than ${limit} bytes (RAIN_MAX_JSON_BYTES)`);
  if (declared > limit) throw tooLarge();
  if (request.body === null) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder().decode(all);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Largest JSON request body (bytes), secret holders included: a bounded request costs bounded
 * memory. `RAIN_MAX_JSON_BYTES` in the server's environment changes it.
 */
export const MAX_JSON_BYTES = Number(Deno.env.get("RAIN_MAX_JSON_BYTES") ?? "") || 64 << 20;

export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await limitedText(c.req.raw, MAX_JSON_BYTES);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // The client went away or sent less than it announced: its fault, not ours.
    throw new ApiError("BadRequest", `cannot read the request body: ${(e as Error).message}`);
  }
  if (text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new ApiError("BadRequest", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(body)) throw new ApiError("BadRequest", "request body must be a JSON object");
  return body;
}

export function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new ApiError("BadRequest", `${name} must be a non-negative integer, got '${raw}'`);
  }
  return value;
}

export function idList(value: unknown, field: string): number[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ApiError("BadRequest", `${field} must be an array of ids`);
  return value.map((v) => {
    // Accept a plain id or a full [session, id] pair.
    const id = Array.isArray(v) && v.length === 2 ? (v as Id)[1] : v;
    if (!Number.isSafeInteger(id)) {
      throw new ApiError(
        "BadRequest",
        `${field} must contain integer ids, got ${JSON.stringify(v)}`,
      );
    }
    return id as number;
  });
}
