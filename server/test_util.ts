/** Helpers for server unit tests: a recording GovernorComm and graph builders. */
import type { GovernorId } from "../common/ids.ts";
import type { SubmitHeader, ToGovernor } from "../common/messages.ts";
import type { GovernorComm } from "./reactor.ts";
import { type ConstantData, Reactor } from "./reactor.ts";
import { LocalityScheduler } from "./scheduler.ts";
import type { Session } from "./state.ts";
import { planObjects, planTasks } from "./submit.ts";

export class RecordingComm implements GovernorComm {
  sent: { governor: GovernorId; message: ToGovernor }[] = [];
  flushes = 0;
  send(governor: GovernorId, message: ToGovernor): void {
    this.sent.push({ governor, message });
  }
  flush(): void {
    this.flushes++;
  }
  /** Messages of one type, removed from the record. */
  take<T extends ToGovernor["type"]>(
    type: T,
  ): { governor: GovernorId; message: Extract<ToGovernor, { type: T }> }[] {
    const taken = this.sent.filter((s) => s.message.type === type);
    this.sent = this.sent.filter((s) => s.message.type !== type);
    return taken as { governor: GovernorId; message: Extract<ToGovernor, { type: T }> }[];
  }
}

export function newReactor(): { reactor: Reactor; comm: RecordingComm } {
  const comm = new RecordingComm();
  return { reactor: new Reactor(comm, new LocalityScheduler()), comm };
}

/**
 * Validates and applies a submit the way the HTTP layer does; constants get `data`. `testMode`
 * honours `_testing` placement hints (as `RAIN_TEST_MODE=1`).
 */
export function submit(
  reactor: Reactor,
  session: Session,
  header: SubmitHeader,
  data: Record<number, Uint8Array> = {},
  testMode = false,
): void {
  const objects = planObjects(session, header, testMode);
  const tasks = planTasks(session, header, objects);
  const constants = new Map<number, ConstantData>();
  for (const [id, bytes] of Object.entries(data)) {
    constants.set(Number(id), { data: bytes, size: bytes.length });
  }
  reactor.submit(session, { objects, tasks }, constants);
}

/** A blob object entry; `data` marks it as a client constant. */
export function blobEntry(
  sid: number,
  id: number,
  opts: { data?: number; keep?: boolean; user?: Record<string, unknown> } = {},
) {
  return {
    spec: {
      id: [sid, id] as [number, number],
      data_type: "blob" as const,
      ...(opts.user ? { user: opts.user as never } : {}),
    },
    keep: opts.keep,
    data_size: opts.data,
  };
}

export function taskEntry(
  sid: number,
  id: number,
  taskType: string,
  inputs: number[],
  outputs: number[],
  config?: unknown,
  cpus = 1,
) {
  return {
    id: [sid, id] as [number, number],
    task_type: taskType,
    config: config as never,
    inputs: inputs.map((i) => ({ id: [sid, i] as [number, number] })),
    outputs: outputs.map((o) => [sid, o] as [number, number]),
    resources: { cpus },
  };
}
