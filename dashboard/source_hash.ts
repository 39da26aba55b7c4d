/**
 * The hash of the dashboard's sources (dashboard/src/*.ts, dashboard/static/*), recorded in
 * dashboard/assets.gen.ts by tools/build_dashboard.ts; assets_test.ts fails when they differ.
 */
import { join, relative } from "node:path";

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...listFiles(path));
    else if (entry.isFile && !entry.name.endsWith("_test.ts")) files.push(path);
  }
  return files;
}

export async function dashboardSourceHash(dashboardDir: string): Promise<string> {
  const files = [
    ...listFiles(join(dashboardDir, "src")),
    ...listFiles(join(dashboardDir, "static")),
  ]
    .map((path) => relative(dashboardDir, path).replaceAll("\\", "/")).sort();
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const file of files) {
    parts.push(
      enc.encode(`${file}\0`),
      Deno.readFileSync(join(dashboardDir, file)),
      enc.encode("\0"),
    );
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) all.set(p, (offset += p.length) - p.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}
