/**
 * The task stream's data, kept columnar so that drawing 100k bars stays fast: one lane per
 * governor cpu (plus one transfer lane per governor), bars sorted by start in typed arrays.
 * Pure (no DOM): unit tested in stream_model_test.ts.
 */
import type { StreamTask, TaskStream, Transfer } from "./types.ts";

export interface Lane {
  governor: string;
  /** cpu index, or -1 for the governor's transfer lane. */
  cpu: number;
  starts: Float64Array;
  ends: Float64Array;
  /** Task ids (cpu lanes) or indexes into `transfers` (transfer lanes). */
  ids: Int32Array;
  /** Index into `names` (cpu lanes). */
  names: Uint16Array;
  failed: Uint8Array;
  /** Longest bar of the lane: a search for bars overlapping `t` starts at `t - maxDuration`. */
  maxDuration: number;
}

export function transferKey(t: Transfer): string {
  const obj = Array.isArray(t.object) ? t.object.join("/") : String(t.object);
  return `${obj}|${t.from}|${t.to}|${t.start}`;
}

export class StreamModel {
  readonly tasks = new Map<number, StreamTask>();
  readonly transfers: Transfer[] = [];
  readonly #transferKeys = new Set<string>();
  governors: { governor: string; cpus: number; lanes?: number }[] = [];
  /** Session start (RFC 3339); bar times are seconds from it. */
  start = "";
  /** Session end (RFC 3339) or null while open. */
  end: string | null = null;
  truncated = false;
  names: string[] = [];
  readonly #nameIndex = new Map<string, number>();
  lanes: Lane[] = [];
  #dirty = true;

  /** Adds or replaces the tasks of an answer (running tasks get their end later). */
  merge(stream: TaskStream): void {
    this.start = stream.start;
    this.end = stream.end;
    this.truncated = stream.truncated;
    const known = new Map(this.governors.map((g) => [g.governor, g]));
    for (const g of stream.governors) {
      const old = known.get(g.governor);
      if (!old) this.governors.push({ ...g });
      else {
        old.cpus = Math.max(old.cpus, g.cpus);
        old.lanes = Math.max(old.lanes ?? 0, g.lanes ?? 0);
      }
    }
    for (const t of stream.tasks) {
      const old = this.tasks.get(t.id);
      if (old && old.end !== null && t.end === null) continue;
      this.tasks.set(t.id, t);
    }
    this.#dirty = true;
  }

  mergeTransfers(list: Transfer[]): void {
    for (const t of list) {
      const key = transferKey(t);
      if (this.#transferKeys.has(key)) continue;
      this.#transferKeys.add(key);
      this.transfers.push(t);
      this.#dirty = true;
    }
  }

  nameIndex(name: string): number {
    let i = this.#nameIndex.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.#nameIndex.set(name, i);
    }
    return i;
  }

  /** Start of the earliest running task, if any (the next poll starts there). */
  earliestRunning(): number | undefined {
    let min: number | undefined;
    for (const t of this.tasks.values()) {
      if (t.end === null && (min === undefined || t.start < min)) min = t.start;
    }
    return min;
  }

  /** Latest end (or start of a running task) seen. */
  latest(): number {
    let max = 0;
    for (const t of this.tasks.values()) max = Math.max(max, t.end ?? t.start);
    for (const t of this.transfers) max = Math.max(max, t.start + t.duration);
    return max;
  }

  /**
   * Rebuilds the lanes if data changed. `now` (seconds from start) ends running tasks.
   * Returns the lanes in display order: per governor its cpus, then its transfer lane.
   */
  build(now: number): Lane[] {
    if (!this.#dirty && !this.#hasRunning) return this.lanes;
    this.#dirty = false;
    this.#hasRunning = false;
    const governors = [...this.governors];
    const byGov = new Map<string, { cpus: StreamTask[][]; transfers: number[] }>();
    const ensure = (governor: string, cpu: number) => {
      let g = byGov.get(governor);
      if (!g) {
        g = { cpus: [], transfers: [] };
        byGov.set(governor, g);
        if (!governors.some((x) => x.governor === governor)) governors.push({ governor, cpus: 0 });
      }
      while (g.cpus.length <= cpu) g.cpus.push([]);
      return g;
    };
    for (const g of governors) ensure(g.governor, Math.max(0, Math.max(g.cpus, g.lanes ?? 0) - 1));
    for (const t of this.tasks.values()) {
      for (const lane of lanesOf(t)) ensure(t.governor, lane).cpus[lane]!.push(t); // ensure() made it
      if (t.end === null) this.#hasRunning = true;
    }
    this.transfers.forEach((t, i) => ensure(t.to, 0).transfers.push(i));
    const lanes: Lane[] = [];
    for (const g of governors) {
      const entry = byGov.get(g.governor)!;
      entry.cpus.forEach((tasks, cpu) => {
        tasks.sort((a, b) => a.start - b.start);
        const n = tasks.length;
        const lane: Lane = {
          governor: g.governor,
          cpu,
          starts: new Float64Array(n),
          ends: new Float64Array(n),
          ids: new Int32Array(n),
          names: new Uint16Array(n),
          failed: new Uint8Array(n),
          maxDuration: 0,
        };
        tasks.forEach((t, i) => {
          const end = t.end ?? Math.max(now, t.start);
          lane.starts[i] = t.start;
          lane.ends[i] = end;
          lane.ids[i] = t.id;
          lane.names[i] = Math.min(this.nameIndex(t.name), 65535);
          lane.failed[i] = t.failed ? 1 : 0;
          if (end - t.start > lane.maxDuration) lane.maxDuration = end - t.start;
        });
        lanes.push(lane);
      });
      // Indexes into this.transfers, so each names a transfer.
      const tr = entry.transfers.map((i) => ({ t: this.transfers[i]!, i }));
      tr.sort((a, b) => a.t.start - b.t.start);
      const n = tr.length;
      const lane: Lane = {
        governor: g.governor,
        cpu: -1,
        starts: new Float64Array(n),
        ends: new Float64Array(n),
        ids: new Int32Array(n),
        names: new Uint16Array(n),
        failed: new Uint8Array(n),
        maxDuration: 0,
      };
      tr.forEach(({ t, i }, k) => {
        lane.starts[k] = t.start;
        lane.ends[k] = t.start + t.duration;
        lane.ids[k] = i;
        if (t.duration > lane.maxDuration) lane.maxDuration = t.duration;
      });
      lanes.push(lane);
    }
    this.lanes = lanes;
    return lanes;
  }
  #hasRunning = false;
}

/** The cpu lanes of a task: the slots it ran on, else `cpu..cpu+cpus-1`. */
export function lanesOf(t: StreamTask): number[] {
  if (t.slots !== undefined && t.slots.length > 0) return t.slots;
  const cpus = Math.max(1, t.cpus ?? 1);
  return Array.from({ length: cpus }, (_, c) => t.cpu + c);
}

/** First index `i` with `arr[i] >= value` (arr ascending). */
export function lowerBound(arr: Float64Array, value: number): number {
  let lo = 0, hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < value) lo = mid + 1; // mid < arr.length
    else hi = mid;
  }
  return lo;
}

/** Index range `[from, to)` of the bars of `lane` that may overlap `[t0, t1]`. */
export function visibleRange(lane: Lane, t0: number, t1: number): [number, number] {
  return [lowerBound(lane.starts, t0 - lane.maxDuration), lowerBound(lane.starts, t1 + 1e-12)];
}

/** The bar of `lane` at time `t` (within `tolerance` seconds), or -1. */
export function hitTest(lane: Lane, t: number, tolerance: number): number {
  const [from, to] = visibleRange(lane, t - tolerance, t + tolerance);
  let best = -1, bestDist = Infinity;
  for (let i = from; i < to; i++) {
    const s = lane.starts[i]!, e = lane.ends[i]!; // i < to <= the lane's length
    const dist = t < s ? s - t : t > e ? t - e : 0;
    if (dist <= tolerance && dist < bestDist) {
      best = i;
      bestDist = dist;
    }
  }
  return best;
}

/** Busy fraction of `cpus` (default: one per cpu lane) over `[t0, t1]`. */
export function utilization(lanes: Lane[], t0: number, t1: number, cpus?: number): number {
  if (t1 <= t0) return 0;
  let busy = 0, count = 0;
  for (const lane of lanes) {
    if (lane.cpu < 0) continue;
    count++;
    const [from, to] = visibleRange(lane, t0, t1);
    for (let i = from; i < to; i++) {
      const s = Math.max(t0, lane.starts[i]!), e = Math.min(t1, lane.ends[i]!); // i < length
      if (e > s) busy += e - s;
    }
  }
  const n = cpus ?? count;
  return n === 0 ? 0 : Math.min(1, busy / (n * (t1 - t0)));
}

/** "Nice" tick step (1, 2, 5 × 10^k) giving about `count` ticks over `span`. */
export function tickStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}
