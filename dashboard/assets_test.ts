import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ASSETS, SOURCE_HASH } from "./assets.gen.ts";
import { dashboardSourceHash } from "./source_hash.ts";
import { reportHtml } from "./report.ts";
import type { ReportData } from "./src/api.ts";

const dir = dirname(fileURLToPath(import.meta.url));

Deno.test("dashboard/assets.gen.ts is built from the current sources (deno task dashboard)", async () => {
  assert.equal(
    SOURCE_HASH,
    await dashboardSourceHash(dir),
    "dashboard/src or dashboard/static changed: run `deno task dashboard` and commit assets.gen.ts",
  );
});

Deno.test("the embedded page loads its script and style", () => {
  assert.match(ASSETS["index.html"]!, /<script type="module" src="app.js"><\/script>/);
  assert.match(ASSETS["index.html"]!, /<link rel="stylesheet" href="style.css">/);
  assert.ok(ASSETS["app.js"]!.length > 10_000);
  assert.ok(ASSETS["style.css"]!.includes(".stream-canvas"));
});

Deno.test("a report is one file: style, script and data inlined, nothing fetched", () => {
  const data = {
    meta: { mode: "report", version: "0", generated: "now" },
    summary: { session: 3, name: "a </script> name", tasks_total: 0 },
  } as unknown as ReportData;
  const html = reportHtml(data);
  assert.ok(!/src="app.js"|href="style.css"/.test(html));
  assert.ok(html.includes("<style>") && html.includes('id="rain-report-data"'));
  // The data cannot close its script element early.
  const dataScript = html.split('id="rain-report-data" type="application/json">')[1];
  assert.ok(dataScript!.indexOf("</script>") > dataScript!.indexOf("\\u003c/script>"));
  assert.match(html, /<title>Rain report: session 3/);
  const json = dataScript!.slice(0, dataScript!.indexOf("</script>"));
  assert.equal(JSON.parse(json).summary.name, "a </script> name");
});
