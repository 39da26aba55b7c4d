/**
 * The package is publishable to JSR: `deno publish --dry-run` (which rejects slow types) passes,
 * `deno doc --lint` finds every export documented, every export's documentation has an example,
 * and every example type-checks (`deno check --doc`). All offline.
 */
import assert from "node:assert/strict";

const DIR = new URL(".", import.meta.url).pathname;

async function deno(args: string[]): Promise<{ ok: boolean; out: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: DIR,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  return { ok: result.success, out };
}

function packageModules(): string[] {
  return [...Deno.readDirSync(DIR)]
    .map((e) => e.name)
    .filter((n) => n.endsWith(".ts") && !n.endsWith("_test.ts") && n !== "test_util.ts")
    .sort();
}

Deno.test("deno publish --dry-run passes (no slow types) and publishes no tests", async () => {
  const { ok, out } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.ok(ok, out);
  assert.match(out, /Success Dry run complete/);
  assert.doesNotMatch(out, /_test\.ts|test_util\.ts/);
  for (const module of packageModules()) assert.match(out, new RegExp(`/${module} `), module);
});

Deno.test("deno doc --lint: every export documented", async () => {
  const { ok, out } = await deno(["doc", "--lint", "mod.ts"]);
  assert.ok(ok, out);
});

Deno.test("every export has an example, and every example type-checks", async () => {
  const { ok, out } = await deno(["doc", "--json", "mod.ts"]);
  assert.ok(ok, out);
  const doc = JSON.parse(out.slice(out.indexOf("{")));
  const symbols: {
    name: string;
    declarations: { jsDoc?: { tags?: { kind: string }[] } }[];
  }[] = doc.nodes[new URL("./mod.ts", import.meta.url).href].symbols;
  assert.ok(symbols.length > 40);
  const without = symbols
    .filter((s) => !s.declarations.some((d) => d.jsDoc?.tags?.some((t) => t.kind === "example")))
    .map((s) => s.name);
  assert.deepEqual(without, []);
  const checked = await deno(["check", "--doc", ...packageModules()]);
  assert.ok(checked.ok, checked.out);
});
