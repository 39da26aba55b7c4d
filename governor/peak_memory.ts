/**
 * Peak resident memory of a process tree, sampled from `/proc` so that users can size their
 * tasks' `memory=` requests. Sampling is cheap: nothing happens for the first interval (most
 * tasks are over by then), then one walk of the tree per interval.
 */
import { join } from "node:path";

/** Sampling interval (ms); tasks shorter than this are not measured. */
export const PEAK_MEMORY_INTERVAL_MS = 100;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** `VmRSS` of one process in bytes (0 if it is gone). */
async function rssOf(root: string, pid: number): Promise<number> {
  const status = await readText(join(root, "proc", String(pid), "status"));
  const kb = status === undefined ? undefined : /^VmRSS:\s+(\d+)\s*kB/m.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

/** Children of a process (`/proc/<pid>/task/*\/children`). */
async function childrenOf(root: string, pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for await (const t of Deno.readDir(join(root, "proc", String(pid), "task"))) {
      const text = await readText(join(root, "proc", String(pid), "task", t.name, "children"));
      for (const p of text?.split(/\s+/) ?? []) if (/^\d+$/.test(p)) out.push(Number(p));
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** Resident bytes of the process and all its descendants now. */
export async function treeRss(pid: number, root = "/"): Promise<number> {
  let total = 0;
  const seen = new Set<number>();
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    total += await rssOf(root, p);
    todo.push(...await childrenOf(root, p));
  }
  return total;
}

/** Samples a process tree until stopped; `peak` is the largest sum seen (0: never sampled). */
export class PeakMemorySampler {
  peak = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #sampling: Promise<void> | undefined;

  constructor(
    readonly pid: number,
    readonly root = "/",
    readonly intervalMs = PEAK_MEMORY_INTERVAL_MS,
  ) {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#sampling = this.sample().finally(() => {
        this.#sampling = undefined;
        this.#schedule();
      });
    }, this.intervalMs);
  }

  /** Takes one sample now. */
  async sample(): Promise<void> {
    const rss = await treeRss(this.pid, this.root);
    if (rss > this.peak) this.peak = rss;
  }

  /** Stops sampling; resolves with the peak (`undefined` when never sampled). */
  async stop(): Promise<number | undefined> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#sampling;
    return this.peak > 0 ? this.peak : undefined;
  }
}
