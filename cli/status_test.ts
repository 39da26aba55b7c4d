import assert from "node:assert/strict";
import { type ClusterStatus, formatStatus, parseStatusArgs } from "./status.ts";
import { assertUsageError } from "./test_util.ts";

Deno.test("rain status arguments", () => {
  assert.deepEqual(parseStatusArgs([]), {
    help: false,
    server: { host: "127.0.0.1", port: 7210 },
    json: false,
  });
  assert.deepEqual(parseStatusArgs(["7300", "--json"]), {
    help: false,
    server: { host: "127.0.0.1", port: 7300 },
    json: true,
  });
  assert.deepEqual(parseStatusArgs(["--help"]), { help: true });
  assertUsageError(() => parseStatusArgs(["a", "b"]), /unexpected argument 'b'/);
  assertUsageError(() => parseStatusArgs(["--jsn"]), /unknown option '--jsn'/);
});

const status: ClusterStatus = {
  version: "0.4.0",
  pid: 42,
  memory: { rss: 64 * 1024 * 1024 },
  governors: [
    {
      governor_id: "127.0.0.1:4001",
      cpus: 4,
      assigned_cpus: 6,
      tasks: 6,
      running_tasks: 4,
      monitoring: { timestamp: "t", cpu_usage: [100, 50, 0, 50], mem_usage: 12.34 },
      resources: {
        cpus: 4,
        memory: 16 * 2 ** 30,
        gpus: ["0", "1"],
        gpu_kind: "cuda",
        custom: { licence: 2 },
      },
      resources_in_use: { cpus: 4, memory: 2 * 2 ** 30, gpus: [1, 0.5], custom: { licence: 1 } },
    },
    { governor_id: "127.0.0.1:4002", cpus: 1, assigned_cpus: 0, tasks: 0 },
  ],
  sessions: [
    {
      session_id: 3,
      name: "etl",
      client: 1,
      failed: false,
      tasks_submitted: 200,
      tasks_finished: 50,
    },
    { session_id: 4, name: "bad", failed: true, tasks_submitted: 2, tasks_finished: 1 },
    { session_id: 5, name: "new", client: 2, failed: false, tasks_submitted: 0, tasks_finished: 0 },
  ],
  ready_tasks: 7,
};

Deno.test("rain status table", () => {
  const out = formatStatus(status, "127.0.0.1:7210");
  const lines = out.split("\n");
  assert.equal(
    lines[0],
    "Rain 0.4.0 server at 127.0.0.1:7210 (pid 42, memory 64 MiB): 2 governors, 5 cpus, " +
      "3 open sessions, 7 ready tasks",
  );
  assert.match(
    out,
    /^GOVERNOR\s+CPUS\s+BUSY\s+TASKS\s+RUNNING\s+CPU%\s+MEM%\s+RESOURCES \(USED\/OFFERED\)$/m,
  );
  assert.match(
    out,
    /^127\.0\.0\.1:4001\s+4\s+4\s+6\s+4\s+50\.0\s+12\.3\s+memory 2 GiB\/16 GiB, gpus 1\.5\/2 \[0:1 1:0\.5\], licence 1\/2$/m,
  );
  assert.match(out, /^127\.0\.0\.1:4002\s+1\s+0\s+0\s+-\s+-\s+-\s+-$/m);
  assert.match(out, /^SESSION\s+NAME\s+CLIENT\s+STATUS\s+FINISHED\s+TOTAL\s+DONE\s+PROGRESS$/m);
  assert.match(out, /^\s+3\s+etl\s+1\s+running\s+50\s+200\s+25\.0%\s+\[#####\.{15}\]$/m);
  assert.match(out, /^\s+4\s+bad\s+-\s+failed\s+1\s+2\s+50\.0%/m);
  assert.match(out, /^\s+5\s+new\s+2\s+empty\s+0\s+0\s+-/m);
  // Counts of one in the singular (issue 17: "1 cpus").
  const one = formatStatus(
    {
      ...status,
      governors: [status.governors[1]!],
      sessions: [status.sessions[0]!],
      ready_tasks: 1,
    },
    "h:1",
  );
  assert.match(one, /: 1 governor, 1 cpu, 1 open session, 1 ready task\n/);
  const empty = formatStatus({ ...status, governors: [], sessions: [] }, "h:1");
  assert.match(empty, /No governors\.\n\nNo open sessions\.\n$/);
});

Deno.test("rain status shows stalled, draining and gone governors and re-runs", () => {
  const out = formatStatus({
    ...status,
    governors: [
      { ...status.governors[1]!, state: "stalled", silent: 3.25 },
      { ...status.governors[1]!, governor_id: "127.0.0.1:4003", state: "draining" },
      { ...status.governors[1]!, governor_id: "127.0.0.1:4004", state: "connected" },
    ],
    governors_gone: [{
      governor_id: "127.0.0.1:4009",
      state: "lost",
      time: "2026-01-02T03:04:05.000Z",
      reason: "no heartbeat for 10.2 s",
    }],
    sessions: [{ ...status.sessions[0]!, tasks_rerun: 3, tasks_retried: 2, attempts_lost: 1 }],
  }, "h:1");
  assert.match(out, /^GOVERNOR\s+STATE\s+CPUS\s+BUSY/m);
  assert.match(out, /^127\.0\.0\.1:4002\s+stalled \(silent 3\.3 s\)\s+1\s+0\s+0\s+-/m);
  assert.match(out, /^127\.0\.0\.1:4003\s+draining\s+1\s/m);
  assert.match(out, /^127\.0\.0\.1:4004\s+connected\s+1\s/m);
  assert.match(out, /^GONE\s+STATE\s+SINCE\s+REASON$/m);
  assert.match(
    out,
    /^127\.0\.0\.1:4009\s+lost\s+2026-01-02T03:04:05\.000Z\s+no heartbeat for 10\.2 s$/m,
  );
  assert.match(
    out,
    /^SESSION\s+NAME\s+CLIENT\s+STATUS\s+FINISHED\s+TOTAL\s+DONE\s+RERUNS\s+RETRIES\s+LOST\s+PROGRESS$/m,
  );
  assert.match(out, /^\s+3\s+etl\s+1\s+running\s+50\s+200\s+25\.0%\s+3\s+2\s+1\s+\[#####/m);
});

Deno.test("rain status shows the connection counts of every listener", () => {
  const counts = {
    open: 3,
    unauthenticated: 1,
    accepted: 2008,
    refused: 12,
    evicted: 1745,
    timed_out: 4,
    header_too_large: 1,
  };
  const governor = status.governors[0]!;
  const out = formatStatus({
    ...status,
    governors: [{ ...governor, data_listener: { ...counts, evicted: 7 } }],
    listeners: { client: counts },
  }, "h:1");
  const lines = out.split("\n");
  const row = (name: string) => lines.find((l) => l.startsWith(name))?.split(/\s+/);
  assert.ok(lines.some((l) => /^LISTENER\s+OPEN\s+UNAUTH\s+ACCEPTED\s+REFUSED/.test(l)), out);
  assert.deepEqual(row("client"), ["client", "3", "1", "2008", "12", "1745", "4", "1"]);
  assert.deepEqual(row("data 127.0.0.1:4001"), [
    "data",
    "127.0.0.1:4001",
    "3",
    "1",
    "2008",
    "12",
    "7",
    "4",
    "1",
  ]);
});
