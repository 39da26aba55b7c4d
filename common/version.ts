/** Version of the `rain` program; the Python package reads the same number from VERSION. */
export const RAIN_VERSION = "0.4.0";

/**
 * Version of the wire protocol between client, server, governor and executor.
 * Bumped on any incompatible change of a message in `messages.ts`.
 */
export const PROTOCOL_VERSION = 1;
