import assert from "node:assert/strict";
import { Auth } from "./auth.ts";

const SECRET = "s3cret-s3cret-s3cret";
const ok = () => new Response("served");

function info(ip: string): Deno.ServeHandlerInfo {
  return { remoteAddr: { transport: "tcp", hostname: ip, port: 40000 } } as Deno.ServeHandlerInfo;
}

async function call(
  handler: (r: Request, i: Deno.ServeHandlerInfo) => Response | Promise<Response>,
  url: string,
  ip: string,
  headers: Record<string, string> = {},
  method = "GET",
) {
  const res = await handler(new Request(url, { method, headers }), info(ip));
  return { status: res.status, headers: res.headers, body: await res.text() };
}

Deno.test("client port: every request needs the secret, compared exactly", async () => {
  const auth = new Auth(SECRET);
  const h = auth.protect(ok, "client");
  const url = "http://127.0.0.1:7210/api/v1/sessions";
  const missing = await call(h, url, "127.0.0.1", {}, "POST");
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="rain"');
  const body = JSON.parse(missing.body);
  assert.equal(body.error.kind, "Unauthorized");
  assert.match(body.error.message, /requires its cluster secret/);
  const wrong = await call(h, url, "127.0.0.1", { authorization: `Bearer ${SECRET}x` }, "POST");
  assert.equal(JSON.parse(wrong.body).error.message, "wrong cluster secret");
  assert.equal((await call(h, url, "127.0.0.1", { authorization: "Basic abc" })).status, 401);
  const right = await call(h, url, "10.1.2.3", { authorization: `Bearer ${SECRET}` }, "POST");
  assert.equal(right.status, 200);
  assert.equal(right.body, "served");
  // The governor link and constants too (loopback gives no exception).
  assert.equal((await call(h, "http://x/api/v1/governor", "127.0.0.1")).status, 401);
  assert.equal((await call(h, "http://x/api/v1/constants/1/2", "127.0.0.1")).status, 401);
  // Read-only status follows the monitoring rule.
  assert.equal(
    (await call(h, "http://127.0.0.1:7210/api/v1/status", "127.0.0.1", {
      host: "127.0.0.1:7210",
    })).status,
    200,
  );
  assert.equal((await call(h, "http://x/api/v1/status", "10.0.0.5")).status, 401);
  assert.equal(auth.refused, 6);
});

Deno.test("monitoring port: open to loopback tools, secret from anywhere else", async () => {
  const h = new Auth(SECRET).protect(ok, "monitoring");
  const url = "http://127.0.0.1:7222/events";
  const local = { host: "127.0.0.1:7222" };
  assert.equal((await call(h, url, "127.0.0.1", local, "POST")).status, 200);
  assert.equal((await call(h, url, "::1", { host: "localhost:7222" }, "POST")).status, 200);
  // The dashboard's own page (same origin) is fine; a page of another site is not, nor DNS
  // rebinding (a foreign host name resolving to 127.0.0.1).
  const same = { ...local, origin: "http://127.0.0.1:7222" };
  assert.equal((await call(h, url, "127.0.0.1", same, "POST")).status, 200);
  const evil = { ...local, origin: "https://evil.example" };
  assert.equal((await call(h, url, "127.0.0.1", evil, "POST")).status, 401);
  assert.equal(
    (await call(h, url, "127.0.0.1", { host: "evil.example:7222" }, "POST")).status,
    401,
  );
  // Remote: refused without the secret; header, cookie or token work.
  const remote = "192.0.2.9";
  const refused = await call(h, "http://srv:7222/events", remote, {}, "POST");
  assert.equal(refused.status, 401);
  assert.match(JSON.parse(refused.body).error.message, /monitoring from 192\.0\.2\.9 requires/);
  const bearer = { authorization: `Bearer ${SECRET}` };
  assert.equal((await call(h, "http://srv:7222/events", remote, bearer, "POST")).status, 200);
  const cookie = { cookie: `other=1; rain_token=${SECRET}` };
  assert.equal((await call(h, "http://srv:7222/events", remote, cookie, "POST")).status, 200);
  const stale = { cookie: "rain_token=old-secret-of-another-run" };
  assert.equal((await call(h, "http://srv:7222/events", remote, stale, "POST")).status, 401);
  assert.equal(
    (await call(h, `http://srv:7222/events?token=${SECRET}`, remote, {}, "POST")).status,
    200,
  );
  assert.equal((await call(h, "http://srv:7222/?token=nope", remote)).status, 401);
  // A browser opening the dashboard with ?token= gets the cookie and the plain address.
  const page = await call(h, `http://srv:7222/sessions?x=1&token=${SECRET}`, remote, {
    accept: "text/html,*/*",
  });
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/sessions?x=1");
  assert.equal(
    page.headers.get("set-cookie"),
    `rain_token=${SECRET}; Path=/; HttpOnly; SameSite=Strict`,
  );
  // A wrong bearer header is refused even from loopback.
  const wrong = { ...local, authorization: "Bearer nope" };
  assert.equal((await call(h, url, "127.0.0.1", wrong, "POST")).status, 401);
});

Deno.test("--insecure: nothing is checked", async () => {
  const h = new Auth(undefined).protect(ok, "client");
  assert.equal((await call(h, "http://x/api/v1/shutdown", "192.0.2.1", {}, "POST")).status, 200);
});
