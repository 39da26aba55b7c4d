/**
 * Identifiers of tasks and data objects.
 *
 * Ids are assigned by the client, per session, from one counter shared by tasks and objects
 * (first id is 10). On the wire an id is the pair `[session_id, id]`.
 */

export type SessionId = number;
export type ClientId = number;
/** `"ip:port"` of the governor's data listener, as the server sees it. */
export type GovernorId = string;

/** `[session_id, id]` */
export type Id = [SessionId, number];

/** A string usable as a Map key, unique across sessions: `"<session>:<id>"`. */
export function idKey(id: Id): string {
  return `${id[0]}:${id[1]}`;
}

export function formatId(id: Id): string {
  return `${id[0]}/${id[1]}`;
}

export function isId(value: unknown): value is Id {
  return Array.isArray(value) && value.length === 2 &&
    Number.isSafeInteger(value[0]) && Number.isSafeInteger(value[1]);
}
