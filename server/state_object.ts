/** The server's data objects: `DataObject`, its locations and consumers, its spec rebuilt. */
import type {
  DataType,
  ObjectInfo,
  ObjectSpec,
  ObjectState,
  UserAttributes,
} from "../common/attributes.ts";
import type { Id } from "../common/ids.ts";
import type { Session, Waiter } from "./state.ts";
import { EMPTY_INFO, NO_GOVERNORS, NO_TASKS } from "./state_empties.ts";
import type { Task } from "./state_task.ts";
import type { GovernorState } from "./state_governor.ts";

/** What few objects have: kept aside (see `DataObject`). */
interface RareObjectFields {
  contentType?: string;
  user?: UserAttributes;
  testLocations?: readonly GovernorState[];
  constantFile?: string;
  constantLength?: number;
  waiters?: Waiter[];
  error?: string;
}

/**
 * A data object. As for `Task`, fields most objects never set live in one side object created
 * on first write, read through accessors.
 */
export class DataObject {
  state: ObjectState = "unfinished";
  info: Readonly<ObjectInfo> = EMPTY_INFO;
  /** Bytes; known once finished (or from a `_testing` hint). */
  size = 0;
  /** The producer of an output, or the shared block of a constant (never both: one slot). */
  #producerOrBlock: Task | Uint8Array | undefined = undefined;
  /** The consumer when there is one, all of them when more (see `consumers`, `addConsumer`). */
  consumerOrList: Task | Task[] | undefined = undefined;
  /** Consumers that have not finished yet. */
  pendingConsumers = 0;
  /** Governors holding a copy (see `addLocation` / `removeLocation`). */
  locations: readonly GovernorState[] = NO_GOVERNORS;
  /**
   * Client-uploaded data: small constants of a submit share one block (`size` bytes from
   * `constantOffset`; one buffer per submit, not one per constant), large ones are spooled to
   * `constantFile`. See `isConstant`, `constantData()`.
   */
  get constantBlock(): Uint8Array | undefined {
    const p = this.#producerOrBlock;
    return p instanceof Uint8Array ? p : undefined;
  }
  set constantBlock(block: Uint8Array | undefined) {
    if (block !== undefined || this.constantBlock !== undefined) this.#producerOrBlock = block;
  }
  constantOffset = 0;
  #rare?: RareObjectFields;

  constructor(
    readonly session: Session,
    readonly id: number,
    readonly dataType: DataType,
    public keep: boolean,
    readonly label?: string,
    contentType?: string,
    user?: UserAttributes,
  ) {
    if (contentType !== undefined || user !== undefined) this.#rare = { contentType, user };
  }

  #set<K extends keyof RareObjectFields>(key: K, value: RareObjectFields[K]): void {
    if (value === undefined && this.#rare === undefined) return;
    (this.#rare ??= {})[key] = value;
  }

  get producer(): Task | undefined {
    const p = this.#producerOrBlock;
    return p instanceof Uint8Array ? undefined : p;
  }
  set producer(task: Task | undefined) {
    if (task !== undefined || this.producer !== undefined) this.#producerOrBlock = task;
  }

  get contentType(): string | undefined {
    return this.#rare?.contentType;
  }
  get user(): UserAttributes | undefined {
    return this.#rare?.user;
  }
  /** `RAIN_TEST_MODE` placement hint (`spec.user._testing`): pretend it lives there. */
  get testLocations(): readonly GovernorState[] | undefined {
    return this.#rare?.testLocations;
  }
  set testLocations(value: readonly GovernorState[] | undefined) {
    this.#set("testLocations", value);
  }
  /** Bytes of an in-memory constant when `size` says otherwise (a `_testing` size hint). */
  get constantLength(): number | undefined {
    return this.#rare?.constantLength;
  }
  set constantLength(value: number | undefined) {
    this.#set("constantLength", value);
  }
  /** A large constant's data, spooled (see `constantBlock`). */
  get constantFile(): string | undefined {
    return this.#rare?.constantFile;
  }
  set constantFile(value: string | undefined) {
    this.#set("constantFile", value);
  }
  get waiters(): Waiter[] | undefined {
    return this.#rare?.waiters;
  }
  set waiters(value: Waiter[] | undefined) {
    this.#set("waiters", value);
  }
  /** Its producer failed (`"continue"` session) or was cancelled: why it will not exist. */
  get error(): string | undefined {
    return this.#rare?.error;
  }
  set error(value: string | undefined) {
    this.#set("error", value);
  }

  get fullId(): Id {
    return [this.session.id, this.id];
  }

  /** Every task consuming this object, across submits. */
  get consumers(): readonly Task[] {
    const c = this.consumerOrList;
    return c === undefined ? NO_TASKS : Array.isArray(c) ? c : [c];
  }

  /** Client data the server holds (until its session closes). */
  get isConstant(): boolean {
    return this.constantBlock !== undefined || this.constantFile !== undefined;
  }

  /** The bytes of a constant held in memory. */
  constantData(): Uint8Array | undefined {
    const length = this.#rare?.constantLength ?? this.size;
    return this.constantBlock?.subarray(this.constantOffset, this.constantOffset + length);
  }
}

/**
 * `{size}` infos of small sizes, shared and frozen: infos are replaced, never mutated, and most
 * objects of a big graph are small.
 */
const SIZE_INFOS: Readonly<ObjectInfo>[] = Array.from(
  { length: 4096 },
  (_, size) => Object.freeze({ size }),
);

/** The info of an object of `size` bytes that says nothing else. */
export function sizeInfo(size: number): Readonly<ObjectInfo> {
  return SIZE_INFOS[size] ?? { size };
}

/** Returns false if it was there already. */
export function addLocation(obj: DataObject, governor: GovernorState): boolean {
  if (obj.locations.includes(governor)) return false;
  obj.locations = obj.locations.length === 0 ? [governor] : [...obj.locations, governor];
  return true;
}

export function removeLocation(obj: DataObject, governor: GovernorState): void {
  if (obj.locations.includes(governor)) {
    obj.locations = obj.locations.filter((g) => g !== governor);
  }
}

export function addConsumer(obj: DataObject, task: Task): void {
  // Most objects have one consumer: kept without an array of its own.
  const c = obj.consumerOrList;
  if (c === undefined) obj.consumerOrList = task;
  else if (Array.isArray(c)) c.push(task);
  else obj.consumerOrList = [c, task];
}

export function objectSpec(obj: DataObject): ObjectSpec {
  const spec: ObjectSpec = { id: [obj.session.id, obj.id], data_type: obj.dataType };
  if (obj.label !== undefined) spec.label = obj.label;
  if (obj.contentType !== undefined) spec.content_type = obj.contentType;
  if (obj.user !== undefined) spec.user = obj.user;
  return spec;
}
