import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { ApiError } from "../errors.ts";
import { Reactor } from "../reactor.ts";
import { LocalityScheduler } from "../scheduler.ts";
import { blobEntry, newReactor, RecordingComm, submit, taskEntry } from "../test_util.ts";

function apiErrorKind(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    ok(e instanceof ApiError, String(e));
    return e.kind;
  }
  return "none";
}

Deno.test("closed sessions are told from unknown ones without a record per closed session", () => {
  const reactor = new Reactor(new RecordingComm(), new LocalityScheduler(), {
    firstSessionId: 5,
  });
  const client = reactor.newClient();
  const opened = Array.from({ length: 1000 }, (_, i) => reactor.newSession(client, `s${i}`));
  assertEquals(opened[0]!.id, 5);
  const failed = opened[10];
  reactor.failSession(failed!, "boom");
  for (const s of opened) if (s !== opened[500]) reactor.closeSession(s);

  assertEquals(apiErrorKind(() => reactor.session(5)), "SessionClosed");
  throws(() => reactor.session(1004), /session 1004 is closed/);
  assertEquals(apiErrorKind(() => reactor.session(failed!.id)), "SessionClosed");
  assertEquals(reactor.session(opened[500]!.id), opened[500]);
  // Ids this server never gave out: earlier servers' (below the first) and future ones.
  assertEquals(apiErrorKind(() => reactor.session(4)), "NotFound");
  throws(() => reactor.session(1005), /session 1005 does not exist/);
  // The next session gets the next id and is open, not "closed".
  const next = reactor.newSession(client, "next");
  assertEquals(next.id, 1005);
  assertEquals(reactor.session(1005), next);

  reactor.removeClient(client);
  // Nothing of the 1001 closed sessions stays in the core.
  const core = reactor.core as unknown as Record<string, unknown>;
  for (const [field, value] of Object.entries(core)) {
    if (value instanceof Map || value instanceof Set) assertEquals([field, value.size], [field, 0]);
    ok(!Array.isArray(value), field);
  }
  assertEquals(apiErrorKind(() => reactor.session(opened[500]!.id)), "SessionClosed");
  assertEquals(apiErrorKind(() => reactor.liveSession(1005)), "SessionClosed");
});

Deno.test("a failed session still open reports its failure, then closed once closed", () => {
  const reactor = new Reactor(new RecordingComm(), new LocalityScheduler());
  const s = reactor.newSession(undefined, "s");
  reactor.failSession(s, "task 1/2 failed");
  assertEquals(reactor.session(s.id), s);
  assertEquals(apiErrorKind(() => reactor.liveSession(s.id)), "SessionFailed");
  reactor.closeSession(s);
  assertEquals(apiErrorKind(() => reactor.liveSession(s.id)), "SessionClosed");
});

Deno.test("a wait begun after its session failed or closed is answered at once", async () => {
  const { reactor } = newReactor();
  const failed = reactor.newSession(undefined, "failed");
  const closed = reactor.newSession(undefined, "closed");
  for (const s of [failed, closed]) {
    submit(reactor, s, {
      objects: [blobEntry(s.id, 1, { data: 1 }), blobEntry(s.id, 2, { keep: true })],
      tasks: [taskEntry(s.id, 3, "buildin/concat", [1], [2])],
    }, { 1: new Uint8Array([1]) });
  }
  reactor.failSession(failed, "task 1/3 failed");
  reactor.closeSession(closed);
  // The fetch of a kept object waits like this: before the fix it was never answered.
  assertEquals(await reactor.wait(failed, [], [2], "all"), {
    kind: "failed",
    error: "task 1/3 failed",
  });
  assertEquals(await reactor.waitAll(failed), { kind: "failed", error: "task 1/3 failed" });
  assertEquals(await reactor.wait(closed, [3], [], "some"), { kind: "closed" });
  assertEquals(await reactor.waitAll(closed), { kind: "closed" });
});
