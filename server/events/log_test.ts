import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { EventLog } from "./log.ts";
import { ArraySink, type PendingEvent } from "./event.ts";
import { IsoClock, toRow } from "./rows.ts";
import { topLevelValue } from "./submit_json.ts";
import { LocalityScheduler } from "../scheduler.ts";
import { Reactor } from "../reactor.ts";
import { blobEntry, RecordingComm, submit, taskEntry } from "../test_util.ts";
import type { SubmitPlan } from "../submit.ts";

interface Row {
  id: number;
  timestamp: string;
  event_type: string;
  session: number | null;
  event: string;
}

function rows(dir: string): Row[] {
  const db = new DatabaseSync(join(dir, "events.db"), { readOnly: true });
  try {
    return db.prepare("SELECT * FROM events ORDER BY id").all() as unknown as Row[];
  } finally {
    db.close();
  }
}

const T = Date.parse("2025-01-02T03:04:05.678Z");

const plan: SubmitPlan = {
  objects: [
    { id: 10, dataType: "blob", keep: false, label: "const", dataSize: 2 },
    { id: 11, dataType: "dir", keep: true, contentType: "text", user: { a: 1 } },
  ],
  tasks: [{
    id: 12,
    taskType: "buildin/concat",
    inputs: [10],
    inputLabels: ["x"],
    outputs: [11],
    cpus: 2,
    name: "cat",
    config: { k: [1, "2"] },
    user: { u: true },
  }],
};

function everyKind(): PendingEvent[] {
  const info = { governor: "g:1", start_time: "2025-01-02T03:04:05.000Z", duration: 0.25 };
  return [
    { type: "ServerStart", time: T, version: "0.4.0", pid: 1, listen: "a:1", http_listen: "a:2" },
    { type: "GovernorNew", time: T, governor: "g:1", cpus: 4, executors: ["py"] },
    { type: "ClientNew", time: T, client: 7 },
    { type: "SessionNew", time: T, session: 3, client: 7, spec: { name: "s" } },
    { type: "ClientSubmit", time: T, session: 3, plan },
    { type: "TaskStarted", time: T, session: 3, task: 12, governor: "g:1", start_time: 'x"y' },
    {
      type: "TaskFinished",
      time: T + 1,
      session: 3,
      task: 12,
      info,
      outputs: [{ id: [3, 11], size: 5 }],
    },
    {
      type: "TaskFinished",
      time: T + 1,
      session: 3,
      task: 13,
      info: { ...info, error: 'boom\n"quoted"', debug: "d" },
    },
    { type: "TaskFinished", time: T + 2, session: 3, task: 14, info: {}, outputs: [] },
    { type: "ClientUnkeep", time: T, session: 3, objects: [11] },
    {
      type: "DataTransfer",
      time: T,
      to: "g:2",
      transfer: { object: [3, 11], from: "g:1", bytes: 5, start_time: "s", duration: 0.5 },
    },
    {
      type: "Monitoring",
      time: T,
      governor: "g:1",
      sample: {
        type: "monitoring",
        timestamp: "t",
        cpu_usage: [1, 2],
        mem_usage: 3,
        net_stat: { lo: [4, 5] },
      },
    },
    { type: "SessionClosed", time: T, session: 3, reason: "Error", message: "m" },
    { type: "GovernorRemoved", time: T, governor: "g:1", error: "gone" },
    { type: "ClientRemoved", time: T, client: 7 },
  ];
}

Deno.test("every event kind is written with its type, session and JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = EventLog.open(dir);
    for (const e of everyKind()) log.push(e);
    await log.flush();
    const got = rows(dir);
    assertEquals(got.map((r) => r.event_type), everyKind().map((e) => e.type));
    assertEquals(got.map((r) => r.id), got.map((_, i) => i + 1));
    assertEquals(got[0]!.timestamp, "2025-01-02T03:04:05.678Z");
    const events = got.map((r) => JSON.parse(r.event));
    for (const [i, e] of events.entries()) assertEquals(e.type, got[i]!.event_type);
    assertEquals(
      got.map((r) => r.session),
      [null, null, null, 3, 3, 3, 3, 3, 3, 3, 3, null, 3, null, null],
    );
    assertEquals(events[1], {
      type: "GovernorNew",
      governor: "g:1",
      resources: { cpus: 4 },
      executors: ["py"],
    });
    assertEquals(events[3], { type: "SessionNew", session: 3, client: 7, spec: { name: "s" } });
    assertEquals(events[4], {
      type: "ClientSubmit",
      session: 3,
      task_count: 1,
      object_count: 2,
      tasks: [{
        id: [3, 12],
        task_type: "buildin/concat",
        inputs: [{ id: [3, 10], label: "x" }],
        outputs: [[3, 11]],
        resources: { cpus: 2 },
        config: { k: [1, "2"] },
        name: "cat",
        user: { u: true },
      }],
      dataobjs: [
        { id: [3, 10], data_type: "blob", label: "const", data_size: 2 },
        { id: [3, 11], data_type: "dir", content_type: "text", user: { a: 1 }, keep: true },
      ],
    });
    assertEquals(events[5], {
      type: "TaskStarted",
      task: [3, 12],
      info: { governor: "g:1", start_time: 'x"y' },
    });
    assertEquals(events[6], {
      type: "TaskFinished",
      task: [3, 12],
      info: { governor: "g:1", start_time: "2025-01-02T03:04:05.000Z", duration: 0.25 },
      outputs: [[11, 5]],
    });
    assertEquals(events[7].info.error, 'boom\n"quoted"');
    assertEquals(events[7].outputs, undefined);
    assertEquals(events[8], { type: "TaskFinished", task: [3, 14], info: {}, outputs: [] });
    assertEquals(events[9], { type: "ClientUnkeep", session: 3, dataobjs: [[3, 11]] });
    assertEquals(events[10], {
      type: "DataTransfer",
      object: [3, 11],
      from: "g:1",
      to: "g:2",
      bytes: 5,
      start_time: "s",
      duration: 0.5,
    });
    assertEquals(events[11], {
      type: "Monitoring",
      governor: "g:1",
      timestamp: "t",
      cpu_usage: [1, 2],
      mem_usage: 3,
      net_stat: { lo: [4, 5] },
    });
    assertEquals(events[12], { type: "SessionClosed", session: 3, reason: "Error", message: "m" });
    // The writer thread builds task rows itself: the same text as toRow().
    const clock = new IsoClock();
    for (const i of [5, 6, 7, 8]) assertEquals(got[i]!.event, toRow(everyKind()[i]!, clock)[3]);
    // Counts are columns of event_counts: the submit's, and the failed task's.
    const db = new DatabaseSync(join(dir, "events.db"), { readOnly: true });
    assertEquals(
      db.prepare("SELECT id, tasks, objects, failed FROM event_counts ORDER BY id").all()
        .map((r) => [r.id, r.tasks, r.objects, r.failed]),
      [[5, 1, 2, 0], [8, 0, 0, 1]],
    );
    db.close();
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a ClientSubmit splices the tasks of the raw header, objects from the plan", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = EventLog.open(dir);
    const raw = `{ "objects" : [{"spec": {"id": [1, 10]}}],
      "tasks": [{"id": [1, 12], "task_type": "buildin/concat", "name": "a \\" } ] [",
                 "inputs": [{"id": [1, 10]}], "outputs": []}]}`;
    const headerBytes = new TextEncoder().encode(raw);
    const withHeader: SubmitPlan = { ...plan, headerBytes };
    log.push({ type: "ClientNew", time: T, client: 1 });
    log.push({ type: "ClientSubmit", time: T, session: 1, plan: withHeader });
    // not an object with "tasks": the header is parsed instead
    const odd = new TextEncoder().encode(`[1]`);
    log.push({ type: "ClientSubmit", time: T, session: 2, plan: { ...plan, headerBytes: odd } });
    log.push({ type: "ClientNew", time: T, client: 2 });
    await log.close();
    const got = rows(dir);
    assertEquals(got.map((r) => r.event_type), [
      "ClientNew",
      "ClientSubmit",
      "ClientSubmit",
      "ClientNew",
    ]);
    assertEquals(JSON.parse(got[1]!.event), {
      type: "ClientSubmit",
      session: 1,
      task_count: 1,
      object_count: 2,
      tasks: [{
        id: [1, 12],
        task_type: "buildin/concat",
        name: 'a " } ] [',
        inputs: [{ id: [1, 10] }],
        outputs: [],
      }],
      dataobjs: [
        { id: [1, 10], data_type: "blob", label: "const", data_size: 2 },
        { id: [1, 11], data_type: "dir", content_type: "text", user: { a: 1 }, keep: true },
      ],
    });
    assertEquals(JSON.parse(got[2]!.event).tasks, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("topLevelValue finds a top-level key's value by structure only", () => {
  const at = (json: string, key: string) => {
    const bytes = new TextEncoder().encode(json);
    const r = topLevelValue(bytes, key);
    return r === null ? null : new TextDecoder().decode(bytes.subarray(...r));
  };
  const doc = `{"a": {"tasks": 1, "s": "}{"}, "k\\"": [1, "]\\\\"], "tasks" :[ {"x": "é\\"}"} ] ,
    "n": -1.5e3, "t": true}`;
  assertEquals(at(doc, "tasks"), `[ {"x": "é\\"}"} ]`);
  assertEquals(at(doc, "n"), "-1.5e3");
  assertEquals(at(doc, "t"), "true");
  assertEquals(at(doc, "missing"), null);
  assertEquals(at("{}", "tasks"), null);
  for (const bad of ["[1]", `{"tasks" 1}`, `{"tasks": [1`, `{"a": "x`, `{"a": 1 "b": 2}`]) {
    throws(() => at(bad, "tasks"));
  }
});

Deno.test("sessions left open are closed ServerLost on reopen; numbering continues", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = EventLog.open(dir);
    assertEquals([first.nextSessionId, first.nextClientId, first.lostSessions], [1, 1, []]);
    first.push({ type: "ClientNew", time: T, client: 1 });
    first.push({ type: "ClientNew", time: T, client: 4 });
    for (const session of [1, 2, 5]) {
      first.push({ type: "SessionNew", time: T, session, client: 1, spec: {} });
    }
    first.push({ type: "SessionClosed", time: T, session: 2, reason: "ClientClose", message: "" });
    await first.close(); // as after a crash: sessions 1 and 5 were never closed
    const second = EventLog.open(dir);
    assertEquals([second.nextSessionId, second.nextClientId, second.lostSessions], [6, 5, [1, 5]]);
    await second.close();
    const closed = rows(dir).filter((r) => r.event_type === "SessionClosed").map((r) =>
      JSON.parse(r.event)
    );
    assertEquals(closed.map((e) => [e.session, e.reason]), [
      [2, "ClientClose"],
      [1, "ServerLost"],
      [5, "ServerLost"],
    ]);
    ok(closed[1].message.includes("server"));
    const third = EventLog.open(dir);
    assertEquals(third.lostSessions, []);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the timer writes pending events without an explicit flush", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = EventLog.open(dir, { flushMs: 10 });
    log.push({ type: "ClientNew", time: T, client: 1 });
    assertEquals(log.pendingCount, 1);
    for (let i = 0; i < 1000 && rows(dir).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assertEquals(rows(dir).length, 1);
    await log.close();
    log.push({ type: "ClientNew", time: T, client: 2 }); // ignored after close
    assertEquals(rows(dir).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the reactor reports every state change to its EventSink", () => {
  const events = new ArraySink();
  const reactor = new Reactor(new RecordingComm(), new LocalityScheduler(), {
    events,
    firstSessionId: 8,
    firstClientId: 3,
  });
  const gov = reactor.addGovernor("g:1", 2, []);
  const client = reactor.newClient();
  assertEquals(client.id, 3);
  const s = reactor.newSession(client, "s", { name: "s", extra: 1 });
  assertEquals(s.id, 8);
  submit(reactor, s, {
    objects: [blobEntry(8, 10, { data: 1 }), blobEntry(8, 11, { keep: true }), blobEntry(8, 13)],
    tasks: [
      taskEntry(8, 12, "buildin/concat", [10], [11]),
      taskEntry(8, 14, "buildin/concat", [10], [13]),
    ],
  }, { 10: new Uint8Array([1]) });
  reactor.endTurn();
  reactor.taskStarted(gov, { type: "task_started", task: [8, 12], start_time: "t0" });
  reactor.taskFinished(gov, {
    type: "task_finished",
    task: [8, 12],
    info: { governor: "g:1", start_time: "t0", duration: 0.1 },
    outputs: [{ id: [8, 11], size: 1, info: {} }],
  });
  reactor.unkeep(s, [11]);
  reactor.monitoring(gov, {
    type: "monitoring",
    timestamp: "t",
    cpu_usage: [1],
    mem_usage: 2,
    net_stat: {},
  });
  assertEquals(gov.monitoring?.mem_usage, 2);
  reactor.dataTransfers(gov, {
    type: "data_transfers",
    transfers: [{ object: [8, 10], from: "server", bytes: 1, start_time: "t", duration: 0 }],
  });
  reactor.taskFailed(gov, { type: "task_failed", task: [8, 14], info: { error: "bad" } });
  reactor.closeSession(s); // failed already: no second SessionClosed
  const other = reactor.newSession(client, "o");
  reactor.removeClient(client); // closes `other`
  reactor.removeGovernor(gov, "connection closed");
  assertEquals(events.events.map((e) => e.type), [
    "GovernorNew",
    "ClientNew",
    "SessionNew",
    "ClientSubmit",
    "TaskStarted",
    "TaskFinished",
    "ClientUnkeep",
    "Monitoring",
    "DataTransfer",
    "TaskFinished",
    "SessionClosed",
    "SessionNew",
    "SessionClosed",
    "ClientRemoved",
    "GovernorRemoved",
  ]);
  assertEquals((events.ofType("SessionNew")[0])!.spec, { name: "s", extra: 1 });
  const closed = events.ofType("SessionClosed");
  assertEquals(closed.map((e) => [e.session, e.reason]), [[8, "Error"], [other.id, "ClientClose"]]);
  ok(closed[0]!.message.includes("bad"));
  const finished = events.ofType("TaskFinished");
  assertEquals(finished[0]!.outputs, [{ id: [8, 11], size: 1, info: {} }]);
  assertEquals(finished[1]!.info.error, "bad");
  assertEquals(finished[1]!.outputs, undefined);
});

Deno.test("a failing database stops the log, not the server", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = EventLog.open(dir);
    log.push({ type: "ClientNew", time: T, client: 1 });
    await log.flush();
    const db = new DatabaseSync(join(dir, "events.db"));
    db.exec("DROP TABLE events");
    db.close();
    log.push({ type: "ClientNew", time: T, client: 2 });
    await log.flush(); // answered although the write failed (the error is logged once)
    log.push({ type: "ClientNew", time: T, client: 3 });
    assertEquals(await log.query({}).catch((e: Error) => e.message), "no such table: events");
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
