/**
 * What a governor offers besides cpus: memory, GPUs and custom resources, from the command line
 * (`--memory`, `--gpus`, `--resources`), the config's `[resources]` table, or detected.
 *
 * GPU detection, in layers (the first that answers wins):
 * 1. `CUDA_VISIBLE_DEVICES` / `ROCR_VISIBLE_DEVICES` when set (the governor was given devices);
 * 2. `nvidia-smi -L`, then `rocm-smi --showid`, when on PATH;
 * 3. the entries of `/proc/driver/nvidia/gpus`.
 * Memory: `MemTotal` of `/proc/meminfo`, or the cgroup limit (v2 `memory.max`, v1
 * `memory.limit_in_bytes`) when lower. Everything reads under an injectable root, so tests fake
 * a machine.
 */
import { join } from "node:path";
import {
  checkCustomName,
  describeResources,
  type GovernorResources,
  type GpuKind,
  parseSize,
} from "../common/resources.ts";
import { Logger } from "../common/log.ts";

const log = new Logger("governor");

/** Resource settings before detection (strings as given on the command line or in TOML). */
export interface ResourceSettings {
  /** `detect` (default) or a size such as `64GiB`. */
  memory?: string;
  /** `detect` (default), `none`, a count `N` (ids 0..N-1) or ids `0,2,3`. */
  gpus?: string;
  custom?: Record<string, number>;
}

/** Where detection looks (tests inject a fake machine). */
export interface DetectionEnv {
  /** Environment variables (default: the process's). */
  env?: (name: string) => string | undefined;
  /** Root under which `/proc` and `/sys` are read (default `/`). */
  root?: string;
  /** Runs a program and returns its stdout, or `undefined` if it is missing or fails. */
  run?: (program: string, args: string[]) => Promise<string | undefined>;
}

export interface GpuDetection {
  ids: string[];
  kind: GpuKind;
  /** How they were found (for the log). */
  how: string;
}

async function runProgram(program: string, args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : undefined;
  } catch {
    return undefined;
  }
}

function splitIds(text: string): string[] {
  return text.split(",").map((s) => s.trim()).filter((s) => s !== "");
}

/** Finds the machine's GPUs (see the module comment for the order). */
export async function detectGpus(d: DetectionEnv = {}): Promise<GpuDetection> {
  const env = d.env ?? ((name: string) => Deno.env.get(name));
  const run = d.run ?? runProgram;
  const root = d.root ?? "/";
  const cuda = env("CUDA_VISIBLE_DEVICES");
  if (cuda !== undefined) {
    // "-1" or "" is CUDA's way of saying "no devices".
    const ids = splitIds(cuda).filter((id) => !id.startsWith("-"));
    return { ids, kind: "cuda", how: "CUDA_VISIBLE_DEVICES" };
  }
  const rocr = env("ROCR_VISIBLE_DEVICES");
  if (rocr !== undefined) {
    return { ids: splitIds(rocr), kind: "rocm", how: "ROCR_VISIBLE_DEVICES" };
  }
  const nvidia = await run("nvidia-smi", ["-L"]);
  if (nvidia !== undefined) {
    const ids = [...nvidia.matchAll(/^GPU (\d+):/gm)].map((m) => m[1]!);
    return { ids, kind: "cuda", how: "nvidia-smi -L" };
  }
  const rocm = await run("rocm-smi", ["--showid"]);
  if (rocm !== undefined) {
    const ids = [...new Set([...rocm.matchAll(/^GPU\[(\d+)\]/gm)].map((m) => m[1]!))];
    return { ids, kind: "rocm", how: "rocm-smi --showid" };
  }
  try {
    const dir = join(root, "proc/driver/nvidia/gpus");
    let n = 0;
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) n++;
    return { ids: [...Array(n).keys()].map(String), kind: "cuda", how: dir };
  } catch {
    return {
      ids: [],
      kind: "cuda",
      how: "no CUDA_VISIBLE_DEVICES, nvidia-smi, rocm-smi or driver",
    };
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** Bytes of memory of the machine, or of the cgroup when its limit is lower. */
export async function detectMemory(
  d: DetectionEnv = {},
): Promise<{ bytes: number; how: string } | undefined> {
  const root = d.root ?? "/";
  const meminfo = await readText(join(root, "proc/meminfo"));
  const kb = meminfo === undefined ? undefined : /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo)?.[1];
  let best = kb === undefined ? undefined : { bytes: Number(kb) * 1024, how: "/proc/meminfo" };
  for (const file of ["sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    const text = (await readText(join(root, file)))?.trim();
    if (text === undefined || !/^\d+$/.test(text)) continue; // "max": no limit
    const bytes = Number(text);
    if (best === undefined || bytes < best.bytes) best = { bytes, how: `cgroup limit /${file}` };
  }
  return best;
}

/** `[resources]` of the governor config: `memory`, `gpus` and custom `NAME = AMOUNT`. */
export function settingsFromConfig(table: unknown, where: string): ResourceSettings {
  if (table === undefined) return {};
  if (typeof table !== "object" || table === null || Array.isArray(table)) {
    throw new Error(`${where}: [resources] must be a table`);
  }
  const out: ResourceSettings = {};
  for (const [key, value] of Object.entries(table)) {
    if (key === "memory") {
      if (typeof value !== "string" && typeof value !== "number") {
        throw new Error(`${where}: resources.memory must be "detect" or a size such as "64GiB"`);
      }
      out.memory = String(value);
    } else if (key === "gpus") {
      if (Array.isArray(value)) out.gpus = value.map(String).join(",");
      else if (typeof value === "string" || typeof value === "number") out.gpus = String(value);
      else throw new Error(`${where}: resources.gpus must be "detect", "none", N or a list of ids`);
    } else {
      try {
        checkCustomName(key);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      if (typeof value !== "number" || !(value >= 0)) {
        throw new Error(`${where}: resources.${key} must be a non-negative number`);
      }
      (out.custom ??= {})[key] = value;
    }
  }
  return out;
}

/** Checks `--memory`, `--gpus` and `--resources` values (throws a message). */
export function checkSettings(s: ResourceSettings): void {
  if (s.memory !== undefined && s.memory !== "detect") parseSize(s.memory);
  if (s.gpus !== undefined) gpuIds(s.gpus);
}

/** `none` → [], `3` → 0,1,2, `0,2` → 0,2, `detect` → undefined. */
function gpuIds(text: string): string[] | undefined {
  const t = text.trim();
  if (t === "detect") return undefined;
  if (t === "none" || t === "0") return [];
  if (/^\d+$/.test(t)) return [...Array(Number(t)).keys()].map(String);
  const ids = splitIds(t);
  if (ids.length === 0 || ids.some((id) => !/^[A-Za-z0-9_:.-]+$/.test(id))) {
    throw new Error(`--gpus must be detect, none, a count or a list of ids, got '${text}'`);
  }
  if (new Set(ids).size !== ids.length) throw new Error(`--gpus lists an id twice: '${text}'`);
  return ids;
}

/**
 * The governor's resources: command-line settings over config settings, the rest detected.
 * Logs what was found and how.
 */
export async function resolveResources(
  cpus: number,
  command: ResourceSettings,
  config: ResourceSettings,
  d: DetectionEnv = {},
): Promise<GovernorResources> {
  const resources: GovernorResources = { cpus };
  const memory = command.memory ?? config.memory ?? "detect";
  if (memory === "detect") {
    const found = await detectMemory(d);
    if (found !== undefined) {
      resources.memory = found.bytes;
      log.info(`memory: ${found.bytes} bytes (from ${found.how})`);
    } else log.warn("memory: not detected; tasks asking for memory cannot run here");
  } else resources.memory = parseSize(memory);
  const gpuSetting = command.gpus ?? config.gpus ?? "detect";
  const given = gpuIds(gpuSetting);
  if (given === undefined) {
    const found = await detectGpus(d);
    log.info(
      found.ids.length > 0
        ? `gpus: ${found.ids.join(",")} (${found.kind}, from ${found.how})`
        : `gpus: none (${found.how})`,
    );
    if (found.ids.length > 0) {
      resources.gpus = found.ids;
      resources.gpu_kind = found.kind;
    }
  } else if (given.length > 0) {
    resources.gpus = given;
    resources.gpu_kind = "cuda";
  }
  const custom = { ...config.custom, ...command.custom };
  if (Object.keys(custom).length > 0) resources.custom = custom;
  log.info(`resources: ${describeResources(resources)}`);
  return resources;
}
