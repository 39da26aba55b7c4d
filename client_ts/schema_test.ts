/**
 * The client's copy of the wire shapes (types.ts) stays the same as the repository's schema
 * (common/messages.ts, common/attributes.ts): checked by the type checker when this file is
 * checked or run. The copy exists so that the published package depends on nothing outside its
 * folder.
 */
import assert from "node:assert/strict";
import type * as Attributes from "../common/attributes.ts";
import type * as Messages from "../common/messages.ts";
import type * as Ids from "../common/ids.ts";
import type * as Mine from "./types.ts";
import { OBJECT_CONTENT_TYPE, SUBMIT_CONTENT_TYPE } from "./framing.ts";
import * as Framing from "../common/framing.ts";
import { API_PREFIX } from "./transport.ts";
import { API_PREFIX as SERVER_API_PREFIX } from "../common/messages.ts";
import { PROTOCOL_VERSION } from "./client.ts";
import { PROTOCOL_VERSION as SERVER_PROTOCOL_VERSION } from "../common/version.ts";

/** `true` only if A and B are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

// Each line fails to type-check if the two definitions drift apart.
const same: true[] = [
  true satisfies Same<Mine.Id, Ids.Id>,
  true satisfies Same<Mine.DataType, Attributes.DataType>,
  true satisfies Same<Mine.JsonValue, Attributes.JsonValue>,
  true satisfies Same<Mine.TaskSpec, Attributes.TaskSpec>,
  true satisfies Same<Mine.TaskInfo, Attributes.TaskInfo>,
  true satisfies Same<Mine.ObjectSpec, Attributes.ObjectSpec>,
  true satisfies Same<Mine.ObjectInfo, Attributes.ObjectInfo>,
  true satisfies Same<Mine.TaskState, Attributes.TaskState>,
  true satisfies Same<Mine.ObjectState, Attributes.ObjectState>,
  true satisfies Same<Mine.ErrorKind, Messages.ErrorKind>,
  true satisfies Same<Mine.ErrorResponse, Messages.ErrorResponse>,
  true satisfies Same<Mine.ConnectResponse, Messages.ConnectResponse>,
  true satisfies Same<Mine.SubmitHeader, Messages.SubmitHeader>,
  true satisfies Same<Mine.SubmittedObject, Messages.SubmittedObject>,
  true satisfies Same<Mine.WaitResponse, Messages.WaitResponse>,
  true satisfies Same<Mine.UpdateResponse, Messages.UpdateResponse>,
  true satisfies Same<Mine.FetchHeader, Messages.FetchHeader>,
  true satisfies Same<Mine.ServerInfoResponse, Messages.ServerInfoResponse>,
];

Deno.test("the client's wire types and constants are the repository's", () => {
  assert.ok(same.every((x) => x));
  assert.equal(SUBMIT_CONTENT_TYPE, Framing.SUBMIT_CONTENT_TYPE);
  assert.equal(OBJECT_CONTENT_TYPE, Framing.OBJECT_CONTENT_TYPE);
  assert.equal(API_PREFIX, SERVER_API_PREFIX);
  assert.equal(PROTOCOL_VERSION, SERVER_PROTOCOL_VERSION);
});
