/**
 * Detection of a governor's memory and gpus from faked machines (an injected root with
 * `/proc` and `/sys` files, faked environment and programs), settings from the command line
 * and the config, and the peak RSS of a process tree read from a fake `/proc`.
 */
import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import { join } from "node:path";
import {
  checkSettings,
  detectGpus,
  detectMemory,
  resolveResources,
  settingsFromConfig,
} from "./resources.ts";
import { treeRss } from "./peak_memory.ts";
import { allocationEnv, parseCustomResources, parseSize } from "../common/resources.ts";

async function fakeRoot(files: Record<string, string>, dirs: string[] = []): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "rain-fake-root-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  for (const dir of dirs) await Deno.mkdir(join(root, dir), { recursive: true });
  return root;
}

const noEnv = () => undefined;
const noPrograms = () => Promise.resolve(undefined);

Deno.test("gpus: CUDA_VISIBLE_DEVICES, then nvidia-smi, rocm-smi, /proc/driver/nvidia", async () => {
  const root = await fakeRoot({}, [
    "proc/driver/nvidia/gpus/0000:01:00.0",
    "proc/driver/nvidia/gpus/0000:02:00.0",
  ]);
  try {
    const env = (vars: Record<string, string>) => (name: string) => vars[name];
    assertEquals(
      await detectGpus({ env: env({ CUDA_VISIBLE_DEVICES: "2,3" }), root, run: noPrograms }),
      { ids: ["2", "3"], kind: "cuda", how: "CUDA_VISIBLE_DEVICES" },
    );
    assertEquals(
      (await detectGpus({ env: env({ CUDA_VISIBLE_DEVICES: "-1" }), root, run: noPrograms })).ids,
      [],
    );
    assertEquals(
      await detectGpus({ env: env({ ROCR_VISIBLE_DEVICES: "0" }), root, run: noPrograms }),
      { ids: ["0"], kind: "rocm", how: "ROCR_VISIBLE_DEVICES" },
    );
    const nvidiaSmi = (program: string, args: string[]) =>
      Promise.resolve(
        program === "nvidia-smi" && args[0] === "-L"
          ? "GPU 0: Tesla T4 (UUID: GPU-1)\nGPU 1: Tesla T4 (UUID: GPU-2)\nGPU 2: Tesla T4 (UUID: GPU-3)\n"
          : undefined,
      );
    assertEquals(await detectGpus({ env: noEnv, root, run: nvidiaSmi }), {
      ids: ["0", "1", "2"],
      kind: "cuda",
      how: "nvidia-smi -L",
    });
    const rocmSmi = (program: string) =>
      Promise.resolve(
        program === "rocm-smi"
          ? "GPU[0]\t\t: Device ID: 0x740f\nGPU[0]\t\t: Subsystem ID: 0x0\nGPU[1]\t\t: Device ID: 0x740f\n"
          : undefined,
      );
    assertEquals((await detectGpus({ env: noEnv, root, run: rocmSmi })).ids, ["0", "1"]);
    assertEquals((await detectGpus({ env: noEnv, root, run: rocmSmi })).kind, "rocm");
    const fromProc = await detectGpus({ env: noEnv, root, run: noPrograms });
    assertEquals([fromProc.ids, fromProc.kind], [["0", "1"], "cuda"]);
    const none = await detectGpus({ env: noEnv, root: "/nonexistent", run: noPrograms });
    assertEquals(none.ids, []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("memory: /proc/meminfo, or the cgroup limit when lower", async () => {
  const meminfo = "MemTotal:       16384000 kB\nMemFree:         1000 kB\n";
  const plain = await fakeRoot({ "proc/meminfo": meminfo, "sys/fs/cgroup/memory.max": "max\n" });
  const limited = await fakeRoot({
    "proc/meminfo": meminfo,
    "sys/fs/cgroup/memory.max": "4294967296\n",
  });
  const v1 = await fakeRoot({
    "proc/meminfo": meminfo,
    "sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
  });
  try {
    assertEquals(await detectMemory({ root: plain }), {
      bytes: 16384000 * 1024,
      how: "/proc/meminfo",
    });
    assertEquals(await detectMemory({ root: limited }), {
      bytes: 4294967296,
      how: "cgroup limit /sys/fs/cgroup/memory.max",
    });
    assertEquals((await detectMemory({ root: v1 }))?.bytes, 16384000 * 1024);
    assertEquals(await detectMemory({ root: "/nonexistent" }), undefined);
  } finally {
    for (const r of [plain, limited, v1]) await Deno.remove(r, { recursive: true });
  }
});

Deno.test("resources: the command line over the config, the rest detected", async () => {
  const root = await fakeRoot({ "proc/meminfo": "MemTotal: 2048 kB\n" });
  try {
    const d = { env: noEnv, root, run: noPrograms };
    assertEquals(await resolveResources(4, {}, {}, d), { cpus: 4, memory: 2048 * 1024 });
    const config = settingsFromConfig(
      { memory: "1GiB", gpus: [0, 1], licence: 2, scratch: 10 },
      "governor.toml",
    );
    assertEquals(await resolveResources(4, { gpus: "3", custom: { licence: 5 } }, config, d), {
      cpus: 4,
      memory: 2 ** 30,
      gpus: ["0", "1", "2"],
      gpu_kind: "cuda",
      custom: { licence: 5, scratch: 10 },
    });
    assertEquals(await resolveResources(1, { gpus: "none" }, config, d), {
      cpus: 1,
      memory: 2 ** 30,
      custom: { licence: 2, scratch: 10 },
    });
    assertEquals((await resolveResources(1, { gpus: "7," }, {}, d)).gpus, ["7"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  assertThrows(() => settingsFromConfig({ cpus: 3 }, "g.toml"), /not a custom resource name/);
  assertThrows(() => settingsFromConfig({ licence: "x" }, "g.toml"), /non-negative number/);
  assertThrows(() => checkSettings({ memory: "much" }), /is not a size/);
  assertThrows(() => checkSettings({ gpus: "0,0" }), /lists an id twice/);
  assertThrows(() => parseCustomResources("licence"), /NAME=AMOUNT/);
  assertEquals(parseCustomResources("a=1, b=2.5"), { a: 1, b: 2.5 });
  assertEquals(parseSize("1.5GiB"), 1.5 * 2 ** 30);
});

Deno.test("what a task receives in its environment", () => {
  assertEquals(allocationEnv({ cpus: 2, gpus: ["1", "3"], gpu_share: 1, gpu_kind: "cuda" }), {
    OMP_NUM_THREADS: "2",
    RAIN_RESOURCES: '{"cpus":2,"gpus":["1","3"],"gpu_share":1,"gpu_kind":"cuda"}',
    CUDA_VISIBLE_DEVICES: "1,3",
    CUDA_DEVICE_ORDER: "PCI_BUS_ID",
  });
  assertEquals(allocationEnv({ cpus: 1, gpus: ["0"], gpu_kind: "rocm" }).ROCR_VISIBLE_DEVICES, "0");
  // No gpus: an empty list hides the machine's devices from the task.
  assertEquals(allocationEnv({ cpus: 1 }).CUDA_VISIBLE_DEVICES, "");
});

Deno.test("peak memory: RSS of a process and its descendants from /proc", async () => {
  const status = (kb: number) => `Name:\tx\nVmRSS:\t  ${kb} kB\n`;
  const root = await fakeRoot({
    "proc/100/status": status(1000),
    "proc/100/task/100/children": "101 102",
    "proc/101/status": status(200),
    "proc/101/task/101/children": "103",
    "proc/102/status": status(30),
    "proc/103/status": status(4),
    "proc/999/status": status(50000), // not in the tree
  });
  try {
    assertEquals(await treeRss(100, root), (1000 + 200 + 30 + 4) * 1024);
    assertEquals(await treeRss(101, root), 204 * 1024);
    assertEquals(await treeRss(12345, root), 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
