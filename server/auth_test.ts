import assert from "node:assert/strict";
import { Auth } from "./auth.ts";

const SECRET = "s3cret-s3cret-s3cret";
const ok = () => new Response("served");

type Info = Deno.ServeHandlerInfo & { localAddr?: Deno.NetAddr };

/** A real loopback connection of this process (this user), for the monitoring rule's uid check. */
let ownConnection: { peerPort: number; localAddr: Deno.NetAddr } | undefined;

function info(ip: string): Info {
  const remoteAddr: Deno.NetAddr = {
    transport: "tcp",
    hostname: ip,
    port: ownConnection?.peerPort ?? 40000,
  };
  return { remoteAddr, localAddr: ownConnection?.localAddr } as Info;
}

async function call(
  handler: (r: Request, i: Info) => Response | Promise<Response>,
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
  // Read-only status follows the monitoring rule (here: a loopback peer of another user).
  assert.equal(
    (await call(h, "http://127.0.0.1:7210/api/v1/status", "127.0.0.1", {
      host: "127.0.0.1:7210",
    })).status,
    401,
  );
  assert.equal(
    (await call(h, "http://x/api/v1/status", "10.0.0.5", {
      authorization: `Bearer ${SECRET}`,
    })).status,
    200,
  );
  assert.equal((await call(h, "http://x/api/v1/status", "10.0.0.5")).status, 401);
  assert.equal(auth.refused, 7);
});

Deno.test("monitoring port: open to this user's loopback tools, secret from anyone else", async () => {
  const h = new Auth(SECRET).protect(ok, "monitoring");
  const url = "http://127.0.0.1:7222/events";
  const local = { host: "127.0.0.1:7222" };
  // A loopback peer that is not this user (here: no socket of this user at that port).
  const stranger = await call(h, url, "127.0.0.1", local, "POST");
  assert.equal(stranger.status, 401);
  assert.match(JSON.parse(stranger.body).error.message, /requires the cluster secret/);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const accepted = await listener.accept();
  ownConnection = { peerPort: client.localAddr.port, localAddr: listener.addr };
  try {
    await monitoringChecks(h, url, local);
  } finally {
    ownConnection = undefined;
    for (const c of [client, accepted, listener]) c.close();
  }
});

async function monitoringChecks(
  h: (r: Request, i: Info) => Response | Promise<Response>,
  url: string,
  local: Record<string, string>,
) {
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
}

Deno.test("knowsSecret: header, cookie or token in the first request's head", () => {
  const auth = new Auth(SECRET);
  const head = (h: Record<string, string>) => new Headers(h);
  assert.equal(auth.knowsSecret(head({ authorization: `Bearer ${SECRET}` }), "/"), true);
  assert.equal(auth.knowsSecret(head({ authorization: "Bearer nope" }), "/"), false);
  assert.equal(auth.knowsSecret(head({ cookie: `rain_token=${SECRET}` }), "/"), true);
  assert.equal(auth.knowsSecret(head({}), `/?token=${SECRET}`), true);
  assert.equal(auth.knowsSecret(head({}), "/api/v1/status"), false);
  assert.equal(new Auth(undefined).knowsSecret(head({}), "/"), true);
});

Deno.test("--insecure: nothing is checked", async () => {
  const h = new Auth(undefined).protect(ok, "client");
  assert.equal((await call(h, "http://x/api/v1/shutdown", "192.0.2.1", {}, "POST")).status, 200);
});
