/**
 * What the executor benchmarks share: one governor (2 cpus, in this process) registered with a
 * fake server, so that only the governor and its executors work, and the rate of a batch of tasks
 * assigned at once (tasks/s until the last is reported).
 */
import { join } from "node:path";
import type { AssignedTask, ToServer } from "../common/messages.ts";
import { Governor } from "../governor/governor.ts";
import type { GovernorOptions } from "../governor/options.ts";
import { type FakeGovernorConnection, FakeServer } from "../governor/fake_server.ts";

export interface BenchGovernor {
  governor: Governor;
  server: FakeServer;
  conn: FakeGovernorConnection;
  /** Stops the governor and the fake server. */
  close(): Promise<void>;
}

/** A registered 2-cpu governor in `dir` with the executors of `configFile`. */
export async function benchGovernor(dir: string, configFile: string): Promise<BenchGovernor> {
  const server = new FakeServer();
  const options: GovernorOptions = {
    serverHost: "127.0.0.1",
    serverPort: server.port,
    cpus: 2,
    listenHost: "127.0.0.1",
    listenPort: 0,
    workDir: join(dir, "work"),
    logDir: join(dir, "logs"),
    configFile,
    deleteListTimeout: 0,
    monitoringInterval: 0,
  };
  const governor = new Governor(options);
  const started = governor.start();
  const { conn } = await server.register();
  await started;
  return {
    governor,
    server,
    conn,
    close: async () => {
      await governor.stop();
      await server.close();
    },
  };
}

/** Assigns `tasks` at once; tasks/s once the last is finished (rejects on a failed one). */
export function tasksPerSecond(
  conn: FakeGovernorConnection,
  tasks: AssignedTask[],
): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const seen = conn.received.length;
    const check = () => {
      for (const m of conn.received.splice(seen) as ToServer[]) {
        if (m.type === "task_failed") return reject(new Error(m.info.error));
        if (m.type === "task_finished" && ++done === tasks.length) {
          return resolve(tasks.length / ((performance.now() - t0) / 1000));
        }
      }
      setTimeout(check, 1); // polled: the fake server has no per-message callback
    };
    conn.send({ type: "assign_tasks", tasks });
    check();
  });
}
