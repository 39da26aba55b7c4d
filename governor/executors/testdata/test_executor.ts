/**
 * Executor for the governor's executor tests (built with executor/mod.ts).
 * - `pid`: returns the executor's pid (text).
 * - `parse`: input 0 is kept by the executor; returns how many times this process parsed it.
 * - `sleep`: sleeps `config.seconds`, returns "slept".
 * - `crash`: prints to stdout and stderr, then exits with code 3 mid-task.
 * - `dir`: stages a directory `out/` with `a.txt` and `sub/b.txt`.
 * - `cwd`: writes a file `junk` into the working directory and returns the entries it found
 *   there before (so a test sees that the directory was emptied between tasks).
 */
import { Executor } from "../../../executor/mod.ts";

let parsed = 0;

new Executor()
  .task("pid", () => String(Deno.pid))
  .task("parse", async (ctx) => {
    const input = ctx.input(0);
    if (input.kept === undefined) {
      parsed++;
      input.keep(await input.text());
    }
    return `${input.kept ?? await input.text()}:${parsed}`;
  })
  .task("sleep", async (ctx) => {
    const seconds = (ctx.config as { seconds: number }).seconds;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return "slept";
  })
  .task("crash", () => {
    console.log("about to crash");
    console.error("something bad happened");
    Deno.exit(3);
  })
  .task("dir", async (ctx) => {
    await Deno.mkdir("out/sub", { recursive: true });
    await Deno.writeTextFile("out/a.txt", "alpha");
    await Deno.writeTextFile("out/sub/b.txt", "bravo");
    return ctx.stageDirectory("out");
  })
  .task("cwd", async () => {
    const names = [];
    for await (const e of Deno.readDir(".")) names.push(e.name);
    await Deno.writeTextFile("junk", "x");
    return JSON.stringify(names);
  })
  .run();
