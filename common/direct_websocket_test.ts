import assert from "node:assert/strict";
// @deno-types="@types/ws"
import WebSocket from "ws";
import { type GuardedServer, serveGuarded } from "./conn_guard.ts";
import {
  acceptDirectWebSocket,
  isWebSocketUpgrade,
  type ServerSocket,
} from "./direct_websocket.ts";

const BIG = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) & 0xff);

/** A guarded server whose WebSocket upgrades are served directly; it echoes frames reversed. */
async function echoServer() {
  const opened: ServerSocket[] = [];
  const closes: number[] = [];
  let relayed = 0;
  let linkEnded = Promise.withResolvers<void>();
  const server: GuardedServer = await serveGuarded({
    hostname: "127.0.0.1",
    port: 0,
    direct: async (request, conn) => {
      if (!isWebSocketUpgrade(request)) return false;
      await acceptDirectWebSocket(request, conn, { maxPayload: 1024 }, (socket) => {
        opened.push(socket);
        socket.onmessage = (event) => {
          const data = new Uint8Array(event.data as ArrayBuffer);
          // "big": 3 MiB back (written as header and payload apart, not joined).
          const big = data.length === 3 && new TextDecoder().decode(data) === "big";
          socket.send(big ? BIG : data.reverse());
        };
        socket.onclose = (event) => closes.push(event.code);
      });
      linkEnded.resolve();
      linkEnded = Promise.withResolvers<void>();
      return true;
    },
  }, () => {
    relayed++;
    return new Response("relayed");
  });
  return {
    server,
    opened,
    closes,
    relayed: () => relayed,
    ended: () => linkEnded.promise,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function connect(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/link`);
  ws.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error(String(e.message)));
  });
}

function nextMessage(ws: WebSocket): Promise<Uint8Array> {
  return new Promise((resolve) => {
    ws.onmessage = (event) => resolve(new Uint8Array(event.data as ArrayBuffer));
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.onclose = (event) => resolve(event.code));
}

Deno.test("direct WebSocket: frames both ways on the accepted connection, none relayed", async () => {
  await using echo = await echoServer();
  const ws = await connect(echo.server.addr.port);
  assert.equal(echo.server.stats.open, 1);
  for (const size of [1, 200, 1000]) {
    const data = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
    const answer = nextMessage(ws);
    ws.send(data);
    assert.deepEqual(await answer, data.slice().reverse());
  }
  const big = nextMessage(ws);
  ws.send(new TextEncoder().encode("big"));
  assert.deepEqual(await big, BIG);
  assert.equal(echo.relayed(), 0);
  // Closed by the client: the server's socket hears 1000, the guard forgets the connection.
  const ended = echo.ended();
  const code = closed(ws);
  ws.close(1000, "done");
  assert.equal(await code, 1000);
  await ended;
  assert.deepEqual(echo.closes, [1000]);
  assert.equal(echo.server.stats.open, 0);
});

Deno.test("direct WebSocket: other requests on the port are relayed as before", async () => {
  await using echo = await echoServer();
  const ws = await connect(echo.server.addr.port);
  const res = await fetch(`http://127.0.0.1:${echo.server.addr.port}/x`);
  assert.equal(await res.text(), "relayed");
  assert.equal(echo.relayed(), 1);
  const code = closed(ws);
  ws.close(1000);
  assert.equal(await code, 1000);
});

Deno.test("direct WebSocket: a frame over maxPayload closes the link (1009)", async () => {
  await using echo = await echoServer();
  const ws = await connect(echo.server.addr.port);
  const ended = echo.ended();
  const code = closed(ws);
  ws.send(new Uint8Array(1025));
  assert.equal(await code, 1009);
  await ended;
  assert.equal(echo.server.stats.open, 0);
});

Deno.test("direct WebSocket: the server closing its socket, and the guard shutting down", async () => {
  await using echo = await echoServer();
  const first = await connect(echo.server.addr.port);
  const firstCode = closed(first);
  echo.opened[0]!.close(1001, "going away");
  assert.equal(await firstCode, 1001);
  const second = await connect(echo.server.addr.port);
  const secondCode = closed(second);
  await echo.server.shutdown();
  assert.equal(await secondCode, 1006); // no close frame: the connection was cut
  assert.equal(echo.server.stats.open, 0);
});
