/**
 * The one schema of every message exchanged by clients, the server and governors.
 * docs/protocol.md explains the flows; this file is the authoritative shape of each message.
 *
 * - Client ⇄ server: HTTP on the server's `--listen` port, JSON bodies (`Client*` types), raw
 *   binary for data (see `framing.ts`), long-poll waits.
 * - Governor ⇄ server: one WebSocket on the same port (`GOVERNOR_WS_PATH`); every binary frame is a
 *   msgpack-encoded array of messages (`ToServer[]` or `ToGovernor[]`): messages are batched.
 * - Governor ⇄ governor: HTTP GET of object data on the governor's data listener.
 */
import type { ListenerCounts } from "./conn_guard.ts";
import type {
  DataType,
  ObjectInfo,
  ObjectSpec,
  ObjectState,
  TaskInfo,
  TaskSpec,
  TaskState,
} from "./attributes.ts";
import type { ClientId, GovernorId, Id, SessionId } from "./ids.ts";
import type { GovernorResources, ResourceAllocation, ResourceUsage } from "./resources.ts";

// ---------------------------------------------------------------------------------------------
// HTTP paths

export const API_PREFIX = "/api/v1";
export const GOVERNOR_WS_PATH = `${API_PREFIX}/governor`;
/** Governor data listener: `GET ${OBJECT_DATA_PATH}/<session>/<id>` */
export const OBJECT_DATA_PATH = "/objects";

// ---------------------------------------------------------------------------------------------
// Client ⇄ server (HTTP, JSON)

/** Every non-2xx response of the client API has this body. */
export interface ErrorResponse {
  error: {
    kind: ErrorKind;
    message: string;
  };
}

export type ErrorKind =
  /** The request itself is malformed (bad JSON, wrong types, unknown fields' values). */
  | "BadRequest"
  /** A submit was rejected; nothing of it was applied. The message names the offending id. */
  | "InvalidGraph"
  /** Unknown session, task or object. */
  | "NotFound"
  /** The session failed; the message is the error of the task that failed it. */
  | "SessionFailed"
  /**
   * Tasks waited for failed or were cancelled, but the session goes on (`"continue"` sessions,
   * `cancel`); the message names them.
   */
  | "TaskFailed"
  /** The session was closed (by the client, a disconnect or the server). */
  | "SessionClosed"
  /** The object cannot be fetched (not kept, removed, or failed). */
  | "NotAvailable"
  /** Missing or wrong cluster secret. */
  | "Unauthorized"
  | "Internal";

/**
 * `GET /api/v1/connect` answers with a streamed body that never ends while the client lives:
 * the first line is this JSON, then one `\n` every few seconds. When the client goes away the
 * stream breaks and the server closes every session of that client.
 */
export interface ConnectResponse {
  client_id: ClientId;
  protocol_version: number;
  server_version: string;
}

/** `POST /api/v1/sessions` */
export interface NewSessionRequest {
  client_id: ClientId;
  /**
   * Free attributes of the session, e.g. `{"name": "Unnamed Session"}`. `on_failure`:
   * `"fail"` (default, Rain 0.4: the first failed task fails the session) or `"continue"` (a
   * failed task fails only its dependents; see docs/policies.md).
   */
  spec?: { name?: string; on_failure?: "fail" | "continue"; [key: string]: unknown };
}
export interface NewSessionResponse {
  session_id: SessionId;
}

/**
 * `POST /api/v1/sessions/<sid>/submit` with body `application/x-rain-submit`
 * (see `framing.ts`): header = this JSON, followed by the data of constant objects, back to back,
 * in the order of `objects` entries that have `data_size`.
 */
export interface SubmitHeader {
  tasks: TaskSpec[];
  objects: SubmittedObject[];
}
export interface SubmittedObject {
  spec: ObjectSpec;
  keep?: boolean;
  /** Present for constants uploaded by the client: number of data bytes in the body. */
  data_size?: number;
}

/** `POST /api/v1/sessions/<sid>/wait` */
export interface WaitRequest {
  tasks?: number[];
  objects?: number[];
  /** `"all"` (default): every item finished; `"some"`: at least one finished. */
  mode?: "all" | "some";
  /** Seconds to block at most; then `{done: false}` is answered and the client asks again. */
  timeout?: number;
}
export interface WaitResponse {
  done: boolean;
  /** Finished items among the requested ones (for `"some"`: at least one when done). */
  tasks: number[];
  objects: number[];
}

/**
 * `POST /api/v1/sessions/<sid>/wait_all` — body `{timeout?}`, answer `{done}`. In a
 * `"continue"` session whose tasks are all over but some failed, the answer is the error
 * `TaskFailed` summarising them (the session stays usable).
 */
export interface WaitAllRequest {
  timeout?: number;
}
export interface WaitAllResponse {
  done: boolean;
}

/**
 * `POST /api/v1/sessions/<sid>/cancel` — body `{tasks: number[]}`: stops these tasks (running
 * ones are killed) and every task depending on them; answer `{tasks}`, the ids cancelled.
 */
export interface CancelRequest {
  tasks: number[];
}

/**
 * `GET /api/v1/sessions/<sid>/failed_tasks` — the tasks that failed in a `"continue"` session
 * (their own failure, or an input's), in the order they failed.
 */
export interface FailedTasksResponse {
  tasks: { id: number; error: string }[];
}

/**
 * `POST /api/v1/sessions/<sid>/rerun_failed` — the failed tasks of a `"continue"` session and
 * their dependents run again; answer `{tasks}`, the ids requeued.
 */
export interface RerunFailedResponse {
  tasks: number[];
}

/** `POST /api/v1/sessions/<sid>/update` */
export interface UpdateRequest {
  tasks?: number[];
  objects?: number[];
}
export interface UpdateResponse {
  tasks: { id: number; state: TaskState; info: TaskInfo }[];
  objects: { id: number; state: ObjectState; info: ObjectInfo }[];
}

/** `POST /api/v1/sessions/<sid>/unkeep` — answer `{}`. */
export interface UnkeepRequest {
  objects: number[];
}

/**
 * `GET /api/v1/sessions/<sid>/objects/<id>/data` blocks until the object is finished, then
 * answers `application/x-rain-object` (see `framing.ts`): header = this JSON, then the data
 * (a tar archive for directories) up to the end of the body, streamed.
 */
export interface FetchHeader {
  id: number;
  data_type: DataType;
  content_type?: string;
  /** Size of the object (for blobs exactly the number of data bytes that follow). */
  size: number;
  spec: ObjectSpec;
  info: ObjectInfo;
}

/** `GET /api/v1/server_info` */
export interface ServerInfoResponse {
  governors: {
    governor_id: GovernorId;
    tasks: Id[];
    objects: Id[];
    objects_to_delete: Id[];
    /** What the governor offers (`memory`, `gpus`, `custom` when it has them). */
    resources: GovernorResources;
    /** What of it assigned tasks hold: cpus, memory (bytes), share per gpu, custom amounts. */
    resources_in_use: ResourceUsage;
    /** Its heartbeat is overdue (it gets no new work); absent when it is heard on time. */
    stalled?: true;
    /** `rain drain`: it gets no new work and stops once its tasks are done. */
    draining?: true;
  }[];
}

// `POST /api/v1/sessions/<sid>/close` and `POST /api/v1/shutdown` answer `{}`.

// ---------------------------------------------------------------------------------------------
// Governor → server (WebSocket, msgpack arrays of these)

export interface RegisterMessage {
  type: "register";
  protocol_version: number;
  /** Port of the governor's data listener. */
  listen_port: number;
  /** IP of the data listener; empty or unspecified (0.0.0.0, ::) = use the connection's peer IP. */
  listen_host: string;
  cpus: number;
  /**
   * Everything the governor offers (`cpus` repeated); absent from older governors: cpus only.
   */
  resources?: GovernorResources;
  hostname: string;
  pid: number;
  /** Executor types this governor can start besides `buildin` (e.g. `["py"]`). */
  executors: string[];
  /** It reads `assign_packed`; absent (older governors): the server sends `assign_tasks`. */
  packed_assignments?: boolean;
  /**
   * The id this governor had before its link dropped: the server resumes it (same id, its data
   * and tasks kept) if it has not declared it lost yet; else the governor registers anew.
   */
  resume?: GovernorId;
  /**
   * Sent when registering again after the link dropped (or the server restarted): what this
   * governor still has, for the server to reconcile (docs/protocol.md "Reattach").
   */
  report?: ReattachReport;
}

/** A reconnecting governor's state: the server keeps what it still needs and drops the rest. */
export interface ReattachReport {
  /** Tasks assigned here and not finished: running, or queued (`running` false). */
  tasks: { id: Id; running: boolean }[];
  /** `task_finished` / `task_failed` not yet acknowledged by `results_journaled`, in order. */
  results: (TaskFinishedMessage | TaskFailedMessage)[];
  /** Objects stored here (finished outputs and input copies). */
  objects: { id: Id; size: number; content_type?: string }[];
}

/** Answer to `fetch_objects`: the copies now stored here, and those that could not be got. */
export interface ObjectsFetchedMessage {
  type: "objects_fetched";
  objects: Id[];
  failed: Id[];
}

/** "Still alive", every `heartbeat_interval` seconds (any frame counts as much). */
export interface HeartbeatMessage {
  type: "heartbeat";
}

export interface TaskStartedMessage {
  type: "task_started";
  task: Id;
  /** RFC 3339 */
  start_time: string;
  /** The governor's cpu slots (0..cpus-1) the task runs on; absent from older governors. */
  slots?: number[];
}

/**
 * What a task printed and did not map to an output (a program's standard output and error, what
 * an executor task wrote to its stdout/stderr), capped by the governor: the head and the tail
 * of each stream, with a line saying how many bytes were dropped between. Empty streams absent.
 */
export interface TaskOutput {
  stdout?: string;
  stderr?: string;
}

export interface TaskFinishedMessage {
  type: "task_finished";
  task: Id;
  info: TaskInfo;
  /** One entry per output of the task, in spec order. */
  outputs: { id: Id; size: number; info: ObjectInfo }[];
  /** Absent when the task printed nothing. */
  output?: TaskOutput;
}

export interface TaskFailedMessage {
  type: "task_failed";
  task: Id;
  /** `info.error` is non-empty. */
  info: TaskInfo;
  /** Absent when the task printed nothing. */
  output?: TaskOutput;
}

/**
 * What an attempt the governor stopped printed (cancelled, its session closed): the task itself
 * is not reported (the server ended it), its output is recorded all the same.
 */
export interface TaskOutputMessage {
  type: "task_output";
  task: Id;
  /** The attempt's number (`AssignedTask.attempt`); absent means 1. */
  attempt?: number;
  output: TaskOutput;
}

/** Objects really removed from the governor (after delayed deletion). */
export interface ObjectsRemovedMessage {
  type: "objects_removed";
  objects: Id[];
}

/**
 * Resource usage of the governor's machine, sent every `RAIN_MONITORING_INTERVAL` seconds
 * (logged as a `Monitoring` event, see docs/events.md).
 */
export interface MonitoringMessage {
  type: "monitoring";
  /** RFC 3339, when measured. */
  timestamp: string;
  /** Busy % of each core since the previous sample. */
  cpu_usage: number[];
  /** % of the machine's memory in use. */
  mem_usage: number;
  /** Cumulative bytes `[received, sent]` per network interface (`/proc/net/dev`). */
  net_stat: Record<string, [number, number]>;
  /** The data listener's connection counts (`/api/v1/status`; not in the event log). */
  data_listener?: ListenerCounts;
}

/** One input object the governor obtained from elsewhere. */
export interface DataTransfer {
  object: Id;
  /** A governor id, or `"server"` for a client constant fetched from the server. */
  from: string;
  bytes: number;
  /** RFC 3339 */
  start_time: string;
  /** seconds */
  duration: number;
}

/** Transfers done by the governor, batched (sent a fraction of a second after they happen). */
export interface DataTransfersMessage {
  type: "data_transfers";
  transfers: DataTransfer[];
}

export type ToServer =
  | RegisterMessage
  | TaskStartedMessage
  | TaskFinishedMessage
  | TaskFailedMessage
  | TaskOutputMessage
  | ObjectsRemovedMessage
  | MonitoringMessage
  | DataTransfersMessage
  | ObjectsFetchedMessage
  | HeartbeatMessage;

// ---------------------------------------------------------------------------------------------
// Server → governor (WebSocket, msgpack arrays of these)

export interface RegisteredMessage {
  type: "registered";
  governor_id: GovernorId;
  /** Seconds between heartbeats the server expects (absent: none expected). */
  heartbeat_interval?: number;
  /**
   * True when the server resumed the governor of `register.resume` (its data and tasks stand);
   * false or absent: a new governor, whatever it held before is forgotten by the server.
   */
  resumed?: boolean;
  /**
   * True when the server reconciles the governor's `report` (its tasks continue unless
   * cancelled, its objects stay unless deleted); absent: it forgets what the governor had.
   */
  reattached?: boolean;
}

/** Where a governor gets an input object it does not hold yet. */
export type ObjectSource =
  /** Already stored on this governor. */
  | { kind: "local" }
  /** Inline data (small client constants). A directory is a tar archive. */
  | { kind: "inline"; data: Uint8Array }
  /** `GET http://<governor>/objects/<sid>/<id>` from one of these governors (try in order). */
  | { kind: "governors"; governors: GovernorId[] }
  /** Large client constant: `GET ${API_PREFIX}/constants/<sid>/<id>` on the server's port. */
  | { kind: "server" };

export interface AssignedTask {
  spec: TaskSpec;
  /**
   * One per `spec.inputs` entry, same order. `info`: the object's run-time info when it says
   * more than the spec (`content_type` set by its producer, `user`); omitted otherwise.
   */
  inputs: { spec: ObjectSpec; size: number; source: ObjectSource; info?: ObjectInfo }[];
  /** One per `spec.outputs` entry, same order. */
  outputs: ObjectSpec[];
  /**
   * What the task is given (gpu ids chosen by the server, memory, custom amounts); absent when
   * it asked for cpus only. The server never oversubscribes a governor: the governor only
   * counts cpus and hands this to the task.
   */
  resources?: ResourceAllocation;
  /** 1 for the first run of the task, then 2, 3… (`RAIN_TASK_ATTEMPT`); absent means 1. */
  attempt?: number;
}

/** Tasks to run; the governor queues them and runs them FIFO as its cpus allow. */
export interface AssignTasksMessage {
  type: "assign_tasks";
  tasks: AssignedTask[];
}

/**
 * `assign_tasks` as the server sends it: the same tasks as one flat array of values, without map
 * keys (layout: common/packed_tasks.ts). The governor's link unpacks it into `assign_tasks`, so
 * the rest of the governor sees only that; a governor also accepts `assign_tasks` as it is.
 */
export interface PackedAssignMessage {
  type: "assign_packed";
  /** The task types of the batch; each task names one by its index. */
  types: string[];
  values: (number | string | Uint8Array | string[] | Record<string, unknown> | null)[];
}

/** The server no longer needs these objects here: put them on the delayed-deletion list. */
export interface DeleteObjectsMessage {
  type: "delete_objects";
  objects: Id[];
}

/** The session ended (closed or failed): kill its running tasks, drop its queue and objects. */
export interface CloseSessionMessage {
  type: "close_session";
  session: SessionId;
}

/** The client cancelled these tasks: kill them if running, drop them if queued. */
export interface CancelTasksMessage {
  type: "cancel_tasks";
  tasks: Id[];
}

/**
 * Store copies of these objects (a drained governor's sole copies move here); answered by one
 * `objects_fetched`.
 */
export interface FetchObjectsMessage {
  type: "fetch_objects";
  objects: AssignedTask["inputs"];
}

/** The cluster is being stopped: exit. */
export interface ShutdownMessage {
  type: "shutdown";
}

/** `stalled`: its heartbeat is overdue; `heard`: no longer stalled; `lost`: declared lost. */
export type PeerState = "stalled" | "heard" | "lost";

/**
 * Another governor stalled, was heard again or was lost: downloads from it that have another
 * copy to read move on when it stalls, and all of them end when it is lost.
 */
export interface PeerStateMessage {
  type: "peer_state";
  governor: GovernorId;
  state: PeerState;
}

/**
 * The server wrote the first `count` results (`task_finished` / `task_failed`, counted from the
 * `report` of `register` on) this link carried to its journal: the governor may forget them.
 */
export interface ResultsJournaledMessage {
  type: "results_journaled";
  count: number;
}

export type ToGovernor =
  | RegisteredMessage
  | ResultsJournaledMessage
  | AssignTasksMessage
  | DeleteObjectsMessage
  | CloseSessionMessage
  | CancelTasksMessage
  | FetchObjectsMessage
  | PeerStateMessage
  | ShutdownMessage;

/** What travels in the server's frames: `assign_tasks` is sent packed. */
export type ToGovernorWire = ToGovernor | PackedAssignMessage;

/** Object state and info as the server keeps them; reused by update answers. */
export type { ObjectState, TaskState };
