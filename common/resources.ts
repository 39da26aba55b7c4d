/**
 * The resource model shared by the server (scheduling), governors (what they offer, what a task
 * receives) and the clients (what a task asks for). docs/resources.md explains it for users.
 *
 * - cpus: summed, whole numbers (the only resource of Rain 0.4).
 * - memory: summed, bytes.
 * - gpus: indexed devices. A task asks for a whole number of devices, or for a fraction ≤ 1 of
 *   one device (several such tasks share it); it is given specific device ids.
 * - custom: named summed amounts (licences, scratch disk, …).
 *
 * A governor's capacity is never oversubscribed: `ResourcePool` is the one bookkeeping of what
 * is in use, and answers whether a request fits now and whether it can ever fit.
 */

/** What a task asks for: `spec.resources`. Absent fields ask for none of that resource. */
export interface ResourceRequest {
  cpus: number;
  /** bytes */
  memory?: number;
  /** A whole number of devices, or a fraction in (0, 1) of one device. */
  gpus?: number;
  custom?: Record<string, number>;
}

export type GpuKind = "cuda" | "rocm";

/** What a governor offers (sent in `register`, shown by `rain status`). */
export interface GovernorResources {
  cpus: number;
  /** bytes; absent: memory requests cannot be placed here */
  memory?: number;
  /** Device ids (as the task's `CUDA_VISIBLE_DEVICES` will name them). */
  gpus?: string[];
  /** Which environment variable names the devices (default `cuda`). */
  gpu_kind?: GpuKind;
  custom?: Record<string, number>;
}

/** What a task was given: sent with its assignment, handed to it as `RAIN_RESOURCES`. */
export interface ResourceAllocation {
  cpus: number;
  memory?: number;
  /** Device ids given to the task. */
  gpus?: string[];
  /** The share of each device in `gpus` (1 unless the task asked for a fraction). */
  gpu_share?: number;
  gpu_kind?: GpuKind;
  custom?: Record<string, number>;
}

/** GPU shares are counted in these units, so that fractions add up exactly. */
export const GPU_UNITS = 10_000;

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `"4GiB"`, `"512MB"`, `"1.5g"`, `"1000"` → bytes; throws a message on anything else. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new Error(`'${text}' is not a size (e.g. 4GiB, 512MB, 1000000)`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** Bytes → `"4 GiB"` (binary units, at most one decimal). */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const shown = i === 0 || value >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return `${shown} ${units[i]}`;
}

const RESOURCE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Names that are not custom resources. */
const BUILT_IN_NAMES = new Set(["cpus", "memory", "gpus"]);

/** `licence=2,disk=100` → `{licence: 2, disk: 100}` (amounts: non-negative numbers). */
export function parseCustomResources(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq).trim();
    const amount = eq < 0 ? NaN : Number(part.slice(eq + 1).trim());
    checkCustomName(name);
    if (!(Number.isFinite(amount) && amount >= 0)) {
      throw new Error(`resource '${part}' must be NAME=AMOUNT with a non-negative amount`);
    }
    out[name] = amount;
  }
  return out;
}

export function checkCustomName(name: string): void {
  if (!RESOURCE_NAME.test(name) || BUILT_IN_NAMES.has(name)) {
    throw new Error(
      `'${name}' is not a custom resource name (letters, digits, _ . -; not cpus/memory/gpus)`,
    );
  }
}

/**
 * Checks a task's `resources` as received (JSON); returns it normalised or throws a message
 * (without the task's name: the caller adds it).
 */
export function checkRequest(raw: Record<string, unknown>): ResourceRequest {
  for (const key of Object.keys(raw)) {
    if (!["cpus", "memory", "gpus", "custom"].includes(key)) {
      throw new Error(`unknown resource '${key}' (custom resources go in resources.custom)`);
    }
  }
  const cpus = raw.cpus ?? 1;
  if (!Number.isSafeInteger(cpus) || (cpus as number) < 1) {
    throw new Error(`resources.cpus must be a positive integer, got ${JSON.stringify(cpus)}`);
  }
  const request: ResourceRequest = { cpus: cpus as number };
  if (raw.memory !== undefined && raw.memory !== 0) {
    if (!Number.isSafeInteger(raw.memory) || (raw.memory as number) < 0) {
      throw new Error(
        `resources.memory must be a number of bytes, got ${JSON.stringify(raw.memory)}`,
      );
    }
    request.memory = raw.memory as number;
  }
  if (raw.gpus !== undefined && raw.gpus !== 0) {
    const gpus = raw.gpus;
    const ok = typeof gpus === "number" && gpus > 0 &&
      (Number.isSafeInteger(gpus) || (gpus < 1 && Number.isInteger(gpus * GPU_UNITS)));
    if (!ok) {
      throw new Error(
        `resources.gpus must be a whole number of gpus or a fraction of one (e.g. 0.25), got ${
          JSON.stringify(gpus)
        }`,
      );
    }
    request.gpus = gpus as number;
  }
  if (raw.custom !== undefined) {
    const custom = raw.custom;
    if (typeof custom !== "object" || custom === null || Array.isArray(custom)) {
      throw new Error("resources.custom must be an object of NAME: AMOUNT");
    }
    const out: Record<string, number> = {};
    for (const [name, amount] of Object.entries(custom)) {
      checkCustomName(name);
      if (typeof amount !== "number" || !Number.isFinite(amount) || amount < 0) {
        throw new Error(`resources.custom.${name} must be a non-negative number`);
      }
      if (amount > 0) out[name] = amount;
    }
    if (Object.keys(out).length > 0) request.custom = out;
  }
  return request;
}

/** Checks the `resources` of a governor's `register` (throws a message). */
export function checkGovernorResources(raw: unknown): GovernorResources {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("register: resources must be an object");
  }
  const r = raw as Record<string, unknown>;
  const out: GovernorResources = { cpus: 0 };
  if (r.memory !== undefined) {
    if (!Number.isSafeInteger(r.memory) || (r.memory as number) < 0) {
      throw new Error("register: bad resources.memory");
    }
    out.memory = r.memory as number;
  }
  if (r.gpus !== undefined) {
    if (!Array.isArray(r.gpus) || !r.gpus.every((id) => typeof id === "string")) {
      throw new Error("register: resources.gpus must be a list of device ids");
    }
    out.gpus = r.gpus as string[];
    out.gpu_kind = r.gpu_kind === "rocm" ? "rocm" : "cuda";
  }
  if (r.custom !== undefined) {
    if (typeof r.custom !== "object" || r.custom === null || Array.isArray(r.custom)) {
      throw new Error("register: resources.custom must be an object");
    }
    const custom: Record<string, number> = {};
    for (const [name, amount] of Object.entries(r.custom)) {
      if (typeof amount !== "number" || !(amount >= 0)) {
        throw new Error(`register: bad resources.custom.${name}`);
      }
      custom[name] = amount;
    }
    out.custom = custom;
  }
  return out;
}

/** Whether the request asks for anything besides cpus. */
export function needsMoreThanCpus(request: ResourceRequest): boolean {
  return request.memory !== undefined || request.gpus !== undefined ||
    request.custom !== undefined;
}

/** `cpus=4 memory=8 GiB gpus=0.5 licence=1` */
export function describeRequest(request: ResourceRequest): string {
  const parts = [`cpus=${request.cpus}`];
  if (request.memory !== undefined) parts.push(`memory=${formatSize(request.memory)}`);
  if (request.gpus !== undefined) parts.push(`gpus=${request.gpus}`);
  for (const [name, amount] of Object.entries(request.custom ?? {})) {
    parts.push(`${name}=${amount}`);
  }
  return parts.join(" ");
}

/** `cpus=8 memory=64 GiB gpus=4 (0,1,2,3) licence=2` */
export function describeResources(resources: GovernorResources): string {
  const parts = [`cpus=${resources.cpus}`];
  if (resources.memory !== undefined) parts.push(`memory=${formatSize(resources.memory)}`);
  const gpus = resources.gpus ?? [];
  if (gpus.length > 0) parts.push(`gpus=${gpus.length} (${gpus.join(",")})`);
  for (const [name, amount] of Object.entries(resources.custom ?? {})) {
    parts.push(`${name}=${amount}`);
  }
  return parts.join(" ");
}

/**
 * Why the request can never run on a governor with these resources (`undefined`: it can, once
 * enough is free).
 */
export function neverFits(
  request: ResourceRequest,
  resources: GovernorResources,
): string | undefined {
  if (request.cpus > resources.cpus) return "cpus";
  if (request.memory !== undefined && request.memory > (resources.memory ?? 0)) return "memory";
  if (request.gpus !== undefined && Math.ceil(request.gpus) > (resources.gpus?.length ?? 0)) {
    return "gpus";
  }
  for (const [name, amount] of Object.entries(request.custom ?? {})) {
    if (amount > (resources.custom?.[name] ?? 0)) return name;
  }
  return undefined;
}

/** How much of one resource (`cpus`, `memory`, `gpus` or a custom name) a governor offers. */
export function resourceAmount(resources: GovernorResources, name: string): number {
  if (name === "cpus") return resources.cpus;
  if (name === "memory") return resources.memory ?? 0;
  if (name === "gpus") return resources.gpus?.length ?? 0;
  return resources.custom?.[name] ?? 0;
}

/** What of a governor's resources is held by its assigned tasks (status pages). */
export interface ResourceUsage {
  cpus: number;
  /** bytes */
  memory: number;
  /** Share in use of each device of `GovernorResources.gpus`, same order (0..1). */
  gpus: number[];
  custom: Record<string, number>;
}

/**
 * The non-cpu resources of one governor in use (cpus are counted by the scheduler in
 * `GovernorState.assignedCpus`, which may exceed the cpus: short tasks queued on the governor).
 */
export class ResourcePool {
  readonly resources: GovernorResources;
  /** bytes in use */
  memoryUsed = 0;
  /** Per device (same order as `resources.gpus`): share in use, in `GPU_UNITS`. */
  readonly gpuUsed: number[];
  readonly customUsed: Record<string, number> = {};

  constructor(resources: GovernorResources) {
    this.resources = resources;
    this.gpuUsed = (resources.gpus ?? []).map(() => 0);
  }

  /** Device indexes the request would get now, or `undefined` if it does not fit now. */
  #gpuPick(gpus: number): number[] | undefined {
    if (gpus >= 1) {
      const free: number[] = [];
      for (let i = 0; i < this.gpuUsed.length && free.length < gpus; i++) {
        if (this.gpuUsed[i] === 0) free.push(i);
      }
      return free.length === gpus ? free : undefined;
    }
    // A fraction: the fullest device it still fits on (best fit keeps whole devices free).
    const units = Math.round(gpus * GPU_UNITS);
    let best = -1;
    for (let i = 0; i < this.gpuUsed.length; i++) {
      const used = this.gpuUsed[i]!;
      if (used + units <= GPU_UNITS && (best < 0 || used > this.gpuUsed[best]!)) best = i;
    }
    return best < 0 ? undefined : [best];
  }

  /** Whether the non-cpu part of the request fits in what is free now. */
  fitsNow(request: ResourceRequest): boolean {
    const memory = request.memory ?? 0;
    if (memory > 0 && this.memoryUsed + memory > (this.resources.memory ?? 0)) return false;
    for (const [name, amount] of Object.entries(request.custom ?? {})) {
      if ((this.customUsed[name] ?? 0) + amount > (this.resources.custom?.[name] ?? 0) + 1e-9) {
        return false;
      }
    }
    return request.gpus === undefined || this.#gpuPick(request.gpus) !== undefined;
  }

  /** Takes the request's non-cpu resources (call only when `fitsNow`). */
  allocate(request: ResourceRequest): ResourceAllocation {
    const allocation: ResourceAllocation = { cpus: request.cpus };
    if (request.memory !== undefined) {
      this.memoryUsed += request.memory;
      allocation.memory = request.memory;
    }
    if (request.gpus !== undefined) {
      const picked = this.#gpuPick(request.gpus);
      if (picked === undefined) throw new Error("allocate: the gpus requested are not free");
      const units = request.gpus >= 1 ? GPU_UNITS : Math.round(request.gpus * GPU_UNITS);
      for (const i of picked) this.gpuUsed[i]! += units;
      allocation.gpus = picked.map((i) => this.resources.gpus![i]!);
      allocation.gpu_share = units / GPU_UNITS;
      if (this.resources.gpu_kind !== undefined) allocation.gpu_kind = this.resources.gpu_kind;
    }
    if (request.custom !== undefined) {
      for (const [name, amount] of Object.entries(request.custom)) {
        this.customUsed[name] = (this.customUsed[name] ?? 0) + amount;
      }
      allocation.custom = { ...request.custom };
    }
    return allocation;
  }

  /** Gives back what `allocate` took. */
  release(allocation: ResourceAllocation): void {
    if (allocation.memory !== undefined) this.memoryUsed -= allocation.memory;
    if (allocation.gpus !== undefined) {
      const units = Math.round((allocation.gpu_share ?? 1) * GPU_UNITS);
      for (const id of allocation.gpus) {
        const i = this.resources.gpus?.indexOf(id) ?? -1;
        if (i >= 0) this.gpuUsed[i] = Math.max(0, this.gpuUsed[i]! - units);
      }
    }
    for (const [name, amount] of Object.entries(allocation.custom ?? {})) {
      this.customUsed[name] = Math.max(0, (this.customUsed[name] ?? 0) - amount);
    }
  }

  /** In-use figures for status pages: `{memory, gpus: [share per device], custom}`. */
  usage(): Omit<ResourceUsage, "cpus"> {
    return {
      memory: this.memoryUsed,
      gpus: this.gpuUsed.map((u) => u / GPU_UNITS),
      custom: { ...this.customUsed },
    };
  }
}

/**
 * Environment variables a program or executor gets for its allocation:
 * `CUDA_VISIBLE_DEVICES` + `CUDA_DEVICE_ORDER` (or `ROCR_VISIBLE_DEVICES`), `OMP_NUM_THREADS`
 * and `RAIN_RESOURCES` (the allocation as JSON).
 */
export function allocationEnv(allocation: ResourceAllocation): Record<string, string> {
  const env: Record<string, string> = {
    OMP_NUM_THREADS: String(allocation.cpus),
    RAIN_RESOURCES: JSON.stringify(allocation),
  };
  const devices = (allocation.gpus ?? []).join(",");
  if (allocation.gpu_kind === "rocm") {
    env.ROCR_VISIBLE_DEVICES = devices;
  } else {
    // No gpus given: an empty list hides the machine's devices from the task.
    env.CUDA_VISIBLE_DEVICES = devices;
    env.CUDA_DEVICE_ORDER = "PCI_BUS_ID";
  }
  return env;
}
