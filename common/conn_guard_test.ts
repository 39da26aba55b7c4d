import assert from "node:assert/strict";
import { serveGuarded } from "./conn_guard.ts";

const enc = new TextEncoder();

async function halfOpen(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc.encode("GET / HTTP/1.1\r\nhost: x\r\n"));
  return conn;
}

/** Resolves when the server closed `conn` (read sees EOF or a reset). */
async function closedByServer(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    while ((await conn.read(buffer)) !== null) { /* drain */ }
  } catch { /* reset */ }
}

async function get(port: number, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}/x`, { headers });
  return { status: res.status, text: await res.text() };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

Deno.test("guard: real peer, secret holders pass, heads time out, floods evict the oldest", async () => {
  const server = await serveGuarded({
    hostname: "127.0.0.1",
    port: 0,
    headerTimeoutMs: 300,
    maxUnauthenticated: 20,
    trusted: (headers) => headers.get("authorization") === "Bearer s",
  }, (request, info) =>
    new Response(
      `${request.headers.get("authorization")} ${info.remoteAddr.hostname} ${info.localAddr.port}`,
    ));
  const port = server.addr.port;
  const opened: Deno.TcpConn[] = [];
  try {
    assert.deepEqual(await get(port, { authorization: "Bearer s" }), {
      status: 200,
      text: `Bearer s 127.0.0.1 ${port}`,
    });
    // A head never completed is closed after the header timeout.
    const slow = await halfOpen(port);
    opened.push(slow);
    await closedByServer(slow);
    assert.equal(server.stats.headerTimeouts, 1);
    // 200 half-open connections: never more than 20 unauthenticated at once, the oldest go.
    for (let i = 0; i < 200; i++) opened.push(await halfOpen(port));
    await until(() => server.stats.accepted >= 202);
    assert.ok(server.stats.unauthenticated <= 20, JSON.stringify(server.stats));
    assert.ok(server.stats.refusedUnauthenticated >= 180, JSON.stringify(server.stats));
    // A secret holder still gets in during the flood.
    assert.equal((await get(port, { authorization: "Bearer s" })).status, 200);
    await until(() => server.stats.unauthenticated === 0);
  } finally {
    for (const c of opened) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await server.shutdown();
  }
});

Deno.test("guard: over maxConnections new connections are closed at once; none crash it", async () => {
  const server = await serveGuarded(
    { hostname: "127.0.0.1", port: 0, maxConnections: 5, headerTimeoutMs: 60_000 },
    () => new Response("ok"),
  );
  const opened: Deno.TcpConn[] = [];
  try {
    // Five keep-alive connections of secret holders (the default trusts every complete head).
    for (let i = 0; i < 5; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(enc.encode("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
      opened.push(conn);
    }
    await until(() => server.stats.open === 5 && server.stats.unauthenticated === 0);
    const extra = await halfOpen(server.addr.port);
    opened.push(extra);
    await closedByServer(extra);
    assert.equal(server.stats.refusedOverLimit, 1);
    for (const c of opened.splice(0)) c.close();
    await until(() => server.stats.open === 0);
    assert.equal((await get(server.addr.port)).text, "ok");
  } finally {
    for (const c of opened) c.close();
    await server.shutdown();
  }
});
