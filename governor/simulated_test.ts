import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { GovernorId } from "../common/ids.ts";
import type { ToGovernor, ToServer } from "../common/messages.ts";
import { Reactor } from "../server/reactor.ts";
import type { GovernorComm } from "../server/reactor/core.ts";
import { LocalityScheduler } from "../server/scheduler.ts";
import type { GovernorState } from "../server/state.ts";
import { blobEntry, submit, taskEntry } from "../server/test_util.ts";
import { SimulatedGovernor } from "./simulated.ts";
import { RecordingLink } from "./test_util.ts";

Deno.test("reports built-in tasks started and finished at once, others failed", async () => {
  const link = new RecordingLink();
  const governor = new SimulatedGovernor({ cpus: 64, listenHost: "127.0.0.1", listenPort: 9 });
  const registered = governor.start(link.connect);
  await Promise.resolve();
  const register = link.sent.shift()!;
  assertEquals([register.type, register.type === "register" && register.cpus], ["register", 64]);
  link.deliver({ type: "registered", governor_id: "127.0.0.1:9", heartbeat_interval: 60 });
  assertEquals(await registered, "127.0.0.1:9");
  const input = (id: number, size: number) => ({
    spec: { id: [1, id] as [number, number], data_type: "blob" as const },
    size,
    source: { kind: "local" as const },
  });
  link.deliver({
    type: "assign_tasks",
    tasks: [
      {
        spec: {
          id: [1, 5],
          task_type: "buildin/concat",
          inputs: [{ id: [1, 1] }, { id: [1, 2] }],
          outputs: [[1, 6]],
          resources: { cpus: 1 },
        },
        inputs: [input(1, 3), input(2, 4)],
        outputs: [{ id: [1, 6], data_type: "blob" }],
      },
      {
        spec: { id: [1, 7], task_type: "py/f", inputs: [], outputs: [], resources: { cpus: 1 } },
        inputs: [],
        outputs: [],
      },
    ],
  });
  const sent = link.sent.map((m) => m.type);
  assertEquals(sent, ["task_started", "task_finished", "task_started", "task_failed"]);
  const finished = link.sent[1] as Extract<ToServer, { type: "task_finished" }>;
  assertEquals(finished.outputs, [{ id: [1, 6], size: 7, info: {} }]);
  const failed = link.sent[3] as Extract<ToServer, { type: "task_failed" }>;
  assertEquals(failed.info.error, "a simulated governor runs only built-in tasks, not py/f");
  await governor.stop();
  assertEquals(link.isClosed, true);
});

/**
 * Simulated governors wired straight to a reactor (no sockets): messages each way are delivered
 * when the reactor flushes, as the WebSocket link would.
 */
class Bridge implements GovernorComm {
  reactor!: Reactor;
  readonly links = new Map<GovernorId, RecordingLink>();
  readonly states = new Map<GovernorId, GovernorState>();
  #queued = new Map<GovernorId, ToGovernor[]>();
  send(governor: GovernorId, message: ToGovernor): void {
    let queue = this.#queued.get(governor);
    if (!queue) this.#queued.set(governor, queue = []);
    queue.push(message);
  }
  flush(): void {
    const queued = this.#queued;
    this.#queued = new Map();
    for (const [id, messages] of queued) this.links.get(id)!.deliver(...messages);
  }
  /** Hands what every governor sent to the reactor; returns how many messages. */
  pump(): number {
    let count = 0;
    for (const [id, link] of this.links) {
      const state = this.states.get(id)!;
      for (const m of link.sent.splice(0)) {
        count++;
        if (m.type === "task_started") this.reactor.taskStarted(state, m);
        else if (m.type === "task_finished") this.reactor.taskFinished(state, m);
      }
    }
    return count;
  }
}

Deno.test("a graph runs to its end on simulated governors, spread over all of them", async () => {
  const bridge = new Bridge();
  const reactor = new Reactor(bridge, new LocalityScheduler());
  bridge.reactor = reactor;
  const governors: SimulatedGovernor[] = [];
  for (let i = 0; i < 3; i++) {
    const id = `127.0.0.1:${i + 1}`;
    const link = new RecordingLink();
    const governor = new SimulatedGovernor({ cpus: 4, listenHost: "127.0.0.1", listenPort: i + 1 });
    const registered = governor.start(link.connect);
    await Promise.resolve();
    link.sent.length = 0; // register: the reactor is told directly below
    bridge.links.set(id, link);
    bridge.states.set(id, reactor.addGovernor(id, 4, []));
    link.deliver({ type: "registered", governor_id: id, heartbeat_interval: 60 });
    await registered;
    governors.push(governor);
  }
  const session = reactor.newSession(undefined, "simulated");
  const sid = session.id;
  // 30 independent concats of two constants, then a concat of all their outputs.
  const objects = [], tasks = [], data: Record<number, Uint8Array> = {};
  for (let i = 0; i < 30; i++) {
    const a = 100 + 4 * i;
    objects.push(blobEntry(sid, a, { data: 1 }), blobEntry(sid, a + 1, { data: 2 }));
    objects.push(blobEntry(sid, a + 2));
    data[a] = new Uint8Array(1);
    data[a + 1] = new Uint8Array(2);
    tasks.push(taskEntry(sid, a + 3, "buildin/concat", [a, a + 1], [a + 2]));
  }
  objects.push(blobEntry(sid, 1, { keep: true }));
  tasks.push(taskEntry(sid, 2, "buildin/concat", tasks.map((t) => t.outputs[0]![1]), [1]));
  submit(reactor, session, { objects, tasks }, data);
  for (let turns = 0; turns < 20 && session.unfinishedTasks > 0; turns++) {
    reactor.endTurn();
    bridge.pump();
  }
  assertEquals(session.unfinishedTasks, 0);
  assertEquals(session.objects.get(1)!.size, 90); // 30 × (1 + 2) bytes, summed by concat
  assertEquals(governors.map((g) => g.id), ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]);
  const ran = new Set([...session.tasks.values()].map((t) => t.info.governor));
  assertEquals(ran.size, 3);
  for (const g of governors) await g.stop();
});
