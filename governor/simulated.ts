/**
 * A simulated governor (HyperQueue's "zero worker"): it registers like a real one and reports
 * every built-in task it is given as started and finished at once, without running it or storing
 * any data. Many fit in one process, so the server can be measured with hundreds of governors on
 * one machine (`bench/many_governors.ts`). Outputs are reported with the size a real run would
 * give where it is known from the inputs (concat: their sum), else 0.
 */
import type { GovernorId } from "../common/ids.ts";
import type { AssignedTask, ToGovernor, ToServer } from "../common/messages.ts";
import { PROTOCOL_VERSION } from "../common/version.ts";
import type { ConnectToServer, ServerConnection } from "./server_link.ts";

export interface SimulatedGovernorOptions {
  cpus: number;
  /** Governor ids are `host:port`: each simulated governor of a server needs its own port. */
  listenHost: string;
  listenPort: number;
}

export class SimulatedGovernor {
  /** Set once registered. */
  id?: string;
  /** Tasks reported (finished or failed) so far. */
  finished = 0;
  #link?: ServerConnection;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #registered = Promise.withResolvers<string>();

  constructor(readonly options: SimulatedGovernorOptions) {}

  /** Connects and registers; resolves with the id the server gave. */
  async start(connect: ConnectToServer): Promise<string> {
    const link = await connect((messages) => this.#handle(messages));
    this.#link = link;
    link.closed.then(() => {
      clearInterval(this.#heartbeat);
      this.#registered.reject(new Error("the link closed before the governor was registered"));
    });
    link.send({
      type: "register",
      protocol_version: PROTOCOL_VERSION,
      listen_port: this.options.listenPort,
      listen_host: this.options.listenHost,
      cpus: this.options.cpus,
      hostname: "simulated",
      pid: Deno.pid,
      executors: [],
      packed_assignments: true, // ServerLink unpacks them
    });
    return await this.#registered.promise;
  }

  /** Closes the link (an orderly stop: code 1000 on a WebSocket); resolves once it is closed. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#link?.close();
    await this.#link?.closed;
  }

  #handle(messages: ToGovernor[]): void {
    const link = this.#link!;
    for (const message of messages) {
      switch (message.type) {
        case "registered":
          this.id = message.governor_id;
          if (message.heartbeat_interval !== undefined) {
            this.#heartbeat = setInterval(
              () => link.send({ type: "heartbeat" }),
              message.heartbeat_interval * 1000,
            );
          }
          this.#registered.resolve(message.governor_id);
          break;
        case "assign_tasks":
          for (const task of message.tasks) {
            for (const report of simulate(task, this.id!)) link.send(report);
            this.finished++;
          }
          break;
        case "fetch_objects":
          // Nothing is stored, so every copy asked for "arrives" at once.
          link.send({
            type: "objects_fetched",
            objects: message.objects.map((o) => o.spec.id),
            failed: [],
          });
          break;
        case "shutdown":
          void this.stop();
          break;
        default:
          // delete_objects, close_session, cancel_tasks: nothing is held or running.
          break;
      }
    }
  }
}

/** The reports of a real governor for a task that took no time: started, then finished. */
export function simulate(task: AssignedTask, governor: GovernorId): [ToServer, ToServer] {
  const id = task.spec.id;
  const start_time = new Date().toISOString();
  const started: ToServer = { type: "task_started", task: id, start_time };
  if (!task.spec.task_type.startsWith("buildin/")) {
    return [started, {
      type: "task_failed",
      task: id,
      info: {
        governor,
        error: `a simulated governor runs only built-in tasks, not ${task.spec.task_type}`,
      },
    }];
  }
  const size = task.spec.task_type === "buildin/concat"
    ? task.inputs.reduce((sum, input) => sum + input.size, 0)
    : 0;
  return [started, {
    type: "task_finished",
    task: id,
    info: { start_time, duration: 0, governor },
    outputs: task.spec.outputs.map((output) => ({ id: output, size, info: {} })),
  }];
}
