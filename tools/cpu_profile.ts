/**
 * Summarises a V8 cpu profile (`deno run --cpu-prof`, see tools/cpu_prof.sh): the functions with
 * the most self time and the most total time (self plus callees), in ms and µs per task.
 *
 * Usage: deno run -R tools/cpu_profile.ts PROFILE.cpuprofile [--tasks N] [--top 25] [--match RE]
 * (--match: only the total time of functions whose name or file matches RE; --callers RE: the
 * stacks, 6 frames deep, under which functions matching RE spent their self time).
 */
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function frameName(f: CallFrame): string {
  const file = f.url.replace(/^.*\/(node_modules|wt\/[^/]+|main)\//, "").replace(/^file:\/\//, "");
  return `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
}

function summarise(profile: Profile, callersOf?: RegExp) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const stacks = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfUs) {
    all += us;
    const node = byId.get(id)!;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    if (callersOf?.test(name)) {
      const frames: string[] = [];
      for (
        let cur = parent.get(id);
        cur !== undefined && frames.length < 6;
        cur = parent.get(cur)
      ) {
        frames.push(frameName(byId.get(cur)!.callFrame));
      }
      const key = `${name}\n      <- ${frames.join("\n      <- ")}`;
      stacks.set(key, (stacks.get(key) ?? 0) + us);
    }
    // Each function on the stack once (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = frameName(byId.get(cur)!.callFrame);
      if (seen.has(n)) continue;
      seen.add(n);
      total.set(n, (total.get(n) ?? 0) + us);
    }
  }
  return { self, total, stacks, all };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      tasks: { type: "string" },
      top: { type: "string", default: "25" },
      match: { type: "string" },
      callers: { type: "string" },
    },
  });
  const tasks = values.tasks ? Number(values.tasks) : undefined;
  const top = Number(values.top);
  const show = (us: number) =>
    `${(us / 1000).toFixed(1).padStart(9)} ms` +
    (tasks ? `${(us / tasks).toFixed(1).padStart(9)} µs/task` : "");
  for (const file of positionals) {
    const callers = values.callers ? new RegExp(values.callers) : undefined;
    const { self, total, stacks, all } = summarise(
      JSON.parse(Deno.readTextFileSync(file)),
      callers,
    );
    if (callers) {
      for (const [s, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        console.log(`${show(us)}  ${s}`);
      }
      continue;
    }
    console.log(`== ${file}: ${show(all)} sampled`);
    const idle = [...self].filter(([n]) => n.startsWith("(idle)")).reduce((a, [, v]) => a + v, 0);
    console.log(`   busy (not idle): ${show(all - idle)}`);
    console.log("-- self");
    for (const [n, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${show(us)}  ${n}`);
    }
    console.log("-- total");
    const re = values.match ? new RegExp(values.match) : undefined;
    for (
      const [n, us] of [...total].filter(([n]) => !re || re.test(n)).sort((a, b) => b[1] - a[1])
        .slice(0, top)
    ) {
      console.log(`${show(us)}  ${n}`);
    }
  }
}
