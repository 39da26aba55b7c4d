/**
 * The dashboard's view of the answers (dashboard/src/types.ts) stays true to the server's
 * (view_types.ts): checked by the type checker when this file is checked or run. For each view,
 * everything the server sends can be read as the dashboard's type, every field the dashboard
 * declares is one the server has, and a field the server always sends is not optional there.
 * (The dashboard keeps its own copy: it is type-checked and bundled without the project's config.)
 */
import assert from "node:assert/strict";
import type * as Dashboard from "../../dashboard/src/types.ts";
import type * as Server from "./view_types.ts";

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

/** `true` if the dashboard reads `S` as `D` faithfully (see above). */
type Reads<S, D> = [S] extends [D]
  ? [Exclude<keyof D, keyof S>] extends [never]
    ? [Exclude<Extract<RequiredKeys<S>, keyof D>, RequiredKeys<D>>] extends [never] ? true : false
  : false
  : false;

type DashboardOnly = "submits" | "reason" | "message";

type Element<T> = T extends readonly (infer E)[] ? E : never;

// Each line fails to type-check if the two drift apart.
const reads: true[] = [
  true satisfies Reads<Server.SessionRow, Dashboard.SessionRow>,
  // The dashboard adds `submits` itself (GET /dashboard/api/sessions/<sid>/submits) and reads a
  // report's `reason`/`message` (dashboard/report.ts) too.
  true satisfies Reads<Server.SessionSummary, Omit<Dashboard.SessionSummary, DashboardOnly>>,
  true satisfies Reads<Server.TaskGroup, Dashboard.TaskGroup>,
  true satisfies Reads<Server.StreamTask, Dashboard.StreamTask>,
  true satisfies Reads<Server.TaskStream, Dashboard.TaskStream>,
  true satisfies Reads<Server.Transfer, Dashboard.Transfer>,
  // `running`: the dashboard counts it from the task groups when the graph lacks it.
  true satisfies Reads<Server.GraphGroup, Omit<Dashboard.GraphGroup, "running">>,
  true satisfies Reads<Server.GraphTask, Dashboard.GraphTask>,
  true satisfies Reads<Server.TaskGraph, Dashboard.TaskGraph>,
  true satisfies Reads<Server.TaskDetail, Dashboard.TaskDetail>,
  true satisfies Reads<
    Element<Server.TaskDetail["inputs"]>,
    Element<Dashboard.TaskDetail["inputs"]>
  >,
  true satisfies Reads<
    Element<Server.TaskDetail["outputs"]>,
    Element<Dashboard.TaskDetail["outputs"]>
  >,
  true satisfies Reads<Server.GovernorRow, Dashboard.GovernorRow>,
  true satisfies Reads<Server.MonitoringPoint, Dashboard.MonitoringPoint>,
  true satisfies Reads<Server.Monitoring, Dashboard.Monitoring>,
];

Deno.test("the dashboard's answer types read the server's faithfully (checked by tsc)", () => {
  assert.ok(reads.every((x) => x));
});
