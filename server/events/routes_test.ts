import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { parseCriteria, QueryError } from "./criteria.ts";
import { PostMortemEvents } from "./post_mortem.ts";
import { eventsApi } from "./routes.ts";
import { EVENTS, ids, iso, queries, T, withLog } from "./test_events.ts";

Deno.test("POST /events criteria: id and session modes, types OR-ed, groups AND-ed", () =>
  withLog(async (q) => {
    assertEquals((await ids(q, {})).length, EVENTS.length);
    assertEquals(await ids(q, { id: { value: 3, mode: "=" } }), [3]);
    assertEquals(await ids(q, { id: { value: 3, mode: "<" } }), [1, 2]);
    assertEquals(await ids(q, { id: { value: 3, mode: "<=" } }), [1, 2, 3]);
    assertEquals(await ids(q, { id: { value: 19, mode: ">" } }), [20, 21]);
    assertEquals(await ids(q, { id: { value: 19, mode: ">=" } }), [19, 20, 21]);
    assertEquals(await ids(q, { session: { value: 2, mode: "=" } }), [15, 16, 17, 18, 19]);
    assertEquals(await ids(q, { session: { value: 2, mode: "<" } }), [
      4,
      5,
      6,
      7,
      9,
      10,
      11,
      12,
      14,
      21,
    ]);
    assertEquals(
      await ids(q, {
        event_types: [{ value: "SessionNew", mode: "=" }, { value: "SessionClosed", mode: "=" }],
      }),
      [4, 15, 19, 21],
    );
    assertEquals(
      await ids(q, {
        event_types: [{ value: "TaskFinished", mode: "=" }],
        session: { value: 1, mode: "=" },
        id: { value: 10, mode: ">=" },
      }),
      [10, 14],
    );
    assertEquals(await ids(q, { limit: 2 }), [1, 2]);
    const [row] = JSON.parse(await q.eventsJson(parseCriteria({ id: { value: 4, mode: "=" } })));
    assertEquals(row, {
      id: 4,
      time: iso(T),
      event: { type: "SessionNew", session: 1, client: 1, spec: { name: "pipe" } },
    });
  }));

Deno.test("bad criteria are rejected with a message", () => {
  throws(() => parseCriteria({ id: { value: 1, mode: "!=" } }), /mode must be one of/);
  throws(() => parseCriteria({ id: { value: "1", mode: "=" } }), /id.value/);
  throws(() => parseCriteria({ session: 3 }), /session must be/);
  throws(() => parseCriteria({ event_types: "SessionNew" }), /event_types must be an array/);
  throws(() => parseCriteria([1]), QueryError);
  assertEquals(parseCriteria({ event_types: ["TaskStarted"] }).event_types, [
    { value: "TaskStarted", mode: "=" },
  ]);
});

Deno.test("HTTP routes: JSON answers with CORS, errors, and the log turned off", () =>
  withLog(async (q, _push, path) => {
    const app = eventsApi(q.source);
    const post = (body: string) =>
      app.request("/events", {
        method: "POST",
        body,
        headers: { "content-type": "application/json", origin: "http://elsewhere" },
      });
    let res = await post(JSON.stringify({ session: { value: 2, mode: "=" } }));
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    assertEquals((await res.json()).length, 5);
    res = await post("");
    assertEquals((await res.json()).length, EVENTS.length);
    res = await post("{nope");
    assertEquals(res.status, 400);
    assertEquals((await res.json()).error.kind, "BadRequest");
    res = await app.request("/events", {
      method: "OPTIONS",
      headers: { origin: "http://x", "access-control-request-method": "POST" },
    });
    assertEquals(res.headers.get("access-control-allow-origin"), "*");
    for (
      const route of [
        "/api/v1/sessions",
        "/api/v1/governors",
        "/api/v1/monitoring?from=0",
        "/api/v1/sessions/1/summary",
        "/api/v1/sessions/1/task_groups",
        "/api/v1/sessions/1/task_stream?from=0&to=10&limit=10",
        "/api/v1/sessions/1/task_graph?tasks=1",
        "/api/v1/sessions/1/tasks/16",
        "/api/v1/sessions/1/transfers",
      ]
    ) {
      res = await app.request(route);
      assertEquals(res.status, 200, route);
      assertEquals(res.headers.get("access-control-allow-origin"), "*", route);
      ok(await res.json(), route);
    }
    res = await app.request("/api/v1/sessions/7/summary");
    assertEquals([res.status, (await res.json()).error.kind], [404, "NotFound"]);
    res = await app.request("/api/v1/sessions/1/task_stream?from=x");
    assertEquals(res.status, 400);
    // read-only, post-mortem
    const ro = new PostMortemEvents(path);
    assertEquals((await queries(ro).sessions()).length, 2);
    ro.close();
    const off = eventsApi(undefined);
    assertEquals(await (await off.request("/events", { method: "POST" })).json(), []);
    assertEquals(await (await off.request("/api/v1/sessions")).json(), []);
    assertEquals((await off.request("/api/v1/sessions/1/summary")).status, 404);
  }));
