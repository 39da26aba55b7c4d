import version from "../VERSION" with { type: "text" };

/**
 * Version of the `rain` program: the repository's VERSION file, the one place it is written
 * (the Python package reads it at build time, the TypeScript client's deno.json is checked
 * against it by a test).
 */
export const RAIN_VERSION: string = version.trim();

/**
 * Version of the wire protocol between client, server, governor and executor.
 * Bumped on any incompatible change of a message in `messages.ts`.
 */
export const PROTOCOL_VERSION = 2;
