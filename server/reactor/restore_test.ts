/**
 * Restart and reattach on the reactor core without sockets: a journal written by one reactor is
 * replayed into another; governors reattach with their reports.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { encodeHeader } from "../../common/framing.ts";
import type { SubmitHeader } from "../../common/messages.ts";
import { Journal } from "../journal/journal.ts";
import { JournalSink } from "../journal/records.ts";
import { Reactor } from "../reactor.ts";
import { LocalityScheduler } from "../scheduler.ts";
import type { Session } from "../state.ts";
import { readSubmitPlan } from "../submit_reader.ts";
import { blobEntry, RecordingComm, submit, taskEntry } from "../test_util.ts";
import { HoldingScheduler, Reattachment } from "./reattach.ts";
import { restore } from "./restore.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function server(dir: string) {
  const comm = new RecordingComm();
  const journal = Journal.open(dir);
  const sink = new JournalSink(journal);
  const holding = new HoldingScheduler(new LocalityScheduler());
  const reactor = new Reactor(comm, holding, {
    events: sink,
    firstSessionId: journal.nextSessionId,
    firstClientId: journal.nextClientId,
  });
  return { comm, journal, sink, holding, reactor };
}
type Server = ReturnType<typeof server>;

/** A submit as the client API applies it: body saved, decoded, made durable, applied. */
async function submitBody(s: Server, session: Session, header: SubmitHeader, data: Uint8Array) {
  const body = new Blob([encodeHeader(header) as BlobPart, data as BlobPart]).stream();
  const saved = await s.journal.saveBody(body);
  const read = await readSubmitPlan(
    (await Deno.open(saved.path)).readable,
    undefined,
    session,
    false,
    s.journal.dir,
  );
  await s.sink.submitted(session.id, saved);
  s.reactor.submit(session, read.plan, read.constants);
}

function assigned(s: Server): Map<number, string> {
  s.reactor.endTurn();
  const out = new Map<number, string>();
  for (const { governor, message } of s.comm.take("assign_tasks")) {
    for (const t of message.tasks) out.set(t.spec.id[1], governor);
  }
  return out;
}

const finished = (gov: string, sid: number, task: number, outputs: number[]) => ({
  type: "task_finished" as const,
  task: [sid, task] as [number, number],
  info: { governor: gov, duration: 0.001 },
  outputs: outputs.map((o) => ({ id: [sid, o] as [number, number], size: 2, info: {} })),
});

/**
 * Before the crash: c1 → t3 → o2 (kept) → t5 → o4 (kept); c1 → t7 → o6 (kept). t3 finished on
 * a:1 (journaled), t5 runs on b:1, t7 runs on a:1 and finishes while the server is down.
 */
async function crashedServer(dir: string) {
  const first = server(dir);
  const { reactor } = first;
  reactor.addGovernor("a:1", 1, []);
  reactor.addGovernor("b:1", 1, []);
  const client = reactor.newClient();
  const session = reactor.newSession(client, "s");
  const sid = session.id;
  await submitBody(first, session, {
    objects: [
      blobEntry(sid, 1, { data: 2 }),
      blobEntry(sid, 2, { keep: true }),
      blobEntry(sid, 4, { keep: true }),
      blobEntry(sid, 6, { keep: true }),
    ],
    tasks: [
      taskEntry(sid, 3, "buildin/concat", [1], [2]),
      taskEntry(sid, 5, "buildin/concat", [2], [4]),
      taskEntry(sid, 7, "buildin/concat", [1], [6]),
    ],
  }, bytes("ab"));
  const placed = assigned(first);
  const t3 = placed.get(3)!;
  reactor.taskFinished(reactor.governors.get(t3)!, finished(t3, sid, 3, [2]));
  assigned(first);
  first.journal.flush();
  // SIGKILL: nothing more of this server happens.
  return { sid, client: client.id, at: (task: number) => session.tasks.get(task)!.governor!.id };
}

Deno.test("a restarted server restores the session, holds its tasks and takes back reports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rain-restore-test-" });
  try {
    const before = await crashedServer(dir);
    const t5 = before.at(5);
    const t7 = before.at(7);
    const second = server(dir);
    const restored = await restore(second.reactor, second.holding, second.journal.records, {
      readBody: async (name) => (await Deno.open(second.journal.bodyPath(name))).readable,
      restoredSubmit: (sid, body, digest) => second.sink.noteSubmit(sid, body, digest),
      testMode: false,
      spoolDir: dir,
    });
    assertEquals(restored.sessions.map((s) => s.id), [before.sid]);
    assertEquals(restored.clients.map((c) => c.id), [before.client]);
    assertEquals([...restored.governors].sort(), ["a:1", "b:1"]);
    const session = restored.sessions[0]!;
    assertEquals(session.tasks.get(3)!.state, "finished");
    assertEquals(session.objects.get(2)!.state, "finished");
    const window = new Reattachment(second.reactor, second.holding, restored.governors, 60_000);
    second.reactor.reattachment = window;
    // A governor back: no task of the restored session goes anywhere yet.
    const b = second.reactor.addGovernor(t5, 1, []);
    second.reactor.reattach(b, {
      tasks: [{ id: [before.sid, 5], running: true }],
      results: [],
      objects: [{ id: [before.sid, 2], size: 2 }],
    });
    assertEquals(assigned(second), new Map());
    assertEquals(session.tasks.get(5)!.state, "running");
    // The other: t7 finished meanwhile (its result not journaled); it holds o2 and o6.
    const a = second.reactor.addGovernor(t7 === t5 ? "c:1" : t7, 1, []);
    second.reactor.reattach(a, {
      tasks: [],
      results: [finished(a.id, before.sid, 7, [6])],
      objects: [{ id: [before.sid, 2], size: 2 }, { id: [before.sid, 6], size: 2 }],
    });
    if (t7 === t5) window.end();
    await window.done;
    // Nothing finished runs again; t5 finishes where it runs.
    assertEquals(assigned(second), new Map());
    assertEquals(session.tasks.get(7)!.state, "finished");
    second.reactor.taskFinished(b, finished(b.id, before.sid, 5, [4]));
    assertEquals(session.unfinishedTasks, 0);
    // A resent submit (same bytes) is recognised.
    ok(second.sink.applied(before.sid, { name: "", path: "", digest: digestOf(second), size: 0 }));
    second.journal.close(false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function digestOf(s: Server): string {
  const record = s.journal.records.find((r) => r.k === "submit");
  return record?.k === "submit" ? record.digest : "";
}

Deno.test("after a restart, what only a governor that never came back held is recomputed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rain-restore-test-" });
  try {
    const before = await crashedServer(dir);
    const second = server(dir);
    const restored = await restore(second.reactor, second.holding, second.journal.records, {
      readBody: async (name) => (await Deno.open(second.journal.bodyPath(name))).readable,
      restoredSubmit: () => {},
      testMode: false,
      spoolDir: dir,
    });
    const window = new Reattachment(second.reactor, second.holding, restored.governors, 60_000);
    const survivor = second.reactor.addGovernor("new:1", 1, []);
    window.end(); // the heartbeat timeout passed: a:1 and b:1 are not back
    const session = restored.sessions[0]!;
    // o2 (kept, only on a lost governor) is recomputed: t3 runs again; t5 and t7 run.
    const placed = assigned(second);
    ok(placed.has(3) || placed.has(7), JSON.stringify([...placed]));
    assertEquals(session.objects.get(2)!.state, "unfinished");
    assertEquals(session.tasks.get(3)!.state === "finished", false);
    ok([...placed.values()].every((g) => g === survivor.id));
    assertEquals(before.sid, session.id);
    second.journal.close(false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a governor declared lost that registers again with its objects: they are taken", () => {
  const comm = new RecordingComm();
  const reactor = new Reactor(comm, new LocalityScheduler());
  const s = { comm, reactor } as unknown as Server;
  reactor.addGovernor("a:1", 2, []);
  reactor.addGovernor("b:1", 1, []);
  const session = reactor.newSession(undefined, "s");
  const sid = session.id;
  // The producer needs 2 cpus: only a:1 can run it.
  submit(reactor, session, {
    objects: [blobEntry(sid, 1, { data: 1 }), blobEntry(sid, 2, { keep: true })],
    tasks: [taskEntry(sid, 3, "buildin/concat", [1], [2], undefined, 2)],
  }, { 1: bytes("x") });
  assertEquals(assigned(s), new Map([[3, "a:1"]]));
  reactor.taskFinished(reactor.governors.get("a:1")!, finished("a:1", sid, 3, [2]));
  reactor.removeGovernor(reactor.governors.get("a:1")!, "no heartbeat for 1.2 s");
  assertEquals(session.objects.get(2)!.state, "unfinished"); // lost: its producer is to rerun
  assertEquals(session.unfinishedTasks, 1);
  const back = reactor.addGovernor("a:1", 2, []);
  reactor.reattach(back, { tasks: [], results: [], objects: [{ id: [sid, 2], size: 2 }] });
  assertEquals(session.objects.get(2)!.state, "finished");
  assertEquals(session.tasks.get(3)!.state, "finished");
  assertEquals(session.unfinishedTasks, 0);
  assertEquals(assigned(s), new Map()); // not recomputed
});
