import { assert, assertEquals, assertRejects } from "./test_assert.ts";
import type { AssignedTask } from "../common/messages.ts";
import type { DataType } from "../common/attributes.ts";
import type { Id } from "../common/ids.ts";
import { DATA_TYPE_HEADER, startDataServer } from "./data_server.ts";
import { InputFetcher } from "./fetch_input.ts";
import { packDirectory } from "./tar.ts";
import {
  describeTree,
  makeSampleTree,
  newId,
  readAll,
  SAMPLE_TREE_SIZE,
  tempDir,
  tempStore,
} from "./test_util.ts";

type Input = AssignedTask["inputs"][number];

function input(id: Id, dataType: DataType, size: number, source: Input["source"]): Input {
  return { spec: { id, data_type: dataType }, size, source };
}

function bigBlob(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7919) & 0xff;
  return b;
}

/** A port on which nothing listens. */
function deadPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("data server streams objects; fetch between two stores over loopback", async () => {
  await using a = await tempStore();
  await using b = await tempStore();
  const server = await startDataServer(a.store, { hostname: "127.0.0.1", port: 0 });
  try {
    assert(server.port > 0);
    const gov = `127.0.0.1:${server.port}`;
    const data = bigBlob(11 * 1024 * 1024);
    const blob = await a.store.putBlob(newId(), data);
    const small = await a.store.putBlob(newId(), new Uint8Array([1, 2, 3]));
    await using src = await tempDir();
    await makeSampleTree(src.path);
    const dir = await a.store.putStream(newId(), "dir", packDirectory(src.path));

    // Plain HTTP: headers and 404.
    const res = await fetch(`http://${gov}/objects/${small.id[0]}/${small.id[1]}`);
    assertEquals(res.headers.get(DATA_TYPE_HEADER), "blob");
    assertEquals(res.headers.get("content-length"), "3");
    assertEquals(new Uint8Array(await res.arrayBuffer()), new Uint8Array([1, 2, 3]));
    const big = await fetch(`http://${gov}/objects/${blob.id[0]}/${blob.id[1]}`);
    assertEquals(big.headers.get("content-length"), String(data.length));
    await big.body!.cancel();
    const missing = await fetch(`http://${gov}/objects/1/999999`);
    assertEquals(missing.status, 404);
    assertEquals((await missing.json()).error.kind, "NotFound");

    // Through the fetcher, trying a dead governor first; two concurrent requests share one transfer.
    const fetcher = new InputFetcher(b.store, "127.0.0.1", deadPort());
    const dead = `127.0.0.1:${deadPort()}`;
    const blobInput = input(blob.id, "blob", blob.size, {
      kind: "governors",
      governors: [dead, gov],
    });
    const p1 = fetcher.obtain(blobInput);
    const p2 = fetcher.obtain(blobInput);
    assert(p1 instanceof Promise && p1 === p2, "one transfer per object");
    const got = await p1;
    assert(got.path !== undefined, "a large blob lands in a file");
    assertEquals(await Deno.readFile(got.path), data);
    assert(fetcher.obtain(blobInput) === got, "held objects are returned synchronously");

    const dirGot = await fetcher.obtain(
      input(dir.id, "dir", dir.size, { kind: "governors", governors: [gov] }),
    );
    assertEquals(dirGot.size, SAMPLE_TREE_SIZE);
    assertEquals(await describeTree(dirGot.path!), await describeTree(src.path));

    const smallGot = await fetcher.obtain(
      input(small.id, "blob", 3, { kind: "governors", governors: [gov] }),
    );
    assertEquals(smallGot.data, new Uint8Array([1, 2, 3]));

    // Nobody has it: the error names the object and every governor tried.
    await assertRejects(
      async () =>
        await fetcher.obtain(
          input([1, 999999], "blob", 1, { kind: "governors", governors: [gov, dead] }),
        ),
      Error,
      "cannot fetch input 1/999999",
    );
    assertEquals(fetcher.pending, 0);
  } finally {
    await server.close();
  }
});

Deno.test("inline inputs and server constants", async () => {
  await using s = await tempStore();
  await using src = await tempDir();
  await makeSampleTree(src.path);
  const tar = await readAll(packDirectory(src.path));
  const constant = bigBlob(300_000);
  const seen: string[] = [];
  const ac = new AbortController();
  const fake = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push(path);
    if (path === "/api/v1/constants/1/7001") return new Response(constant as BodyInit);
    if (path === "/api/v1/constants/1/7002") return new Response(tar as BodyInit);
    return new Response("no", { status: 404 });
  });
  try {
    const fetcher = new InputFetcher(s.store, "127.0.0.1", (fake.addr as Deno.NetAddr).port);
    const inl = await fetcher.obtain(
      input(newId(), "blob", 2, { kind: "inline", data: new Uint8Array([5, 6]) }),
    );
    assertEquals(inl.data, new Uint8Array([5, 6]));
    const inlDir = await fetcher.obtain(
      input(newId(), "dir", tar.length, { kind: "inline", data: tar }),
    );
    assertEquals(await describeTree(inlDir.path!), await describeTree(src.path));

    const c = await fetcher.obtain(input([1, 7001], "blob", constant.length, { kind: "server" }));
    assertEquals(await s.store.readBytes(c), constant);
    const d = await fetcher.obtain(input([1, 7002], "dir", tar.length, { kind: "server" }));
    assertEquals(await describeTree(d.path!), await describeTree(src.path));
    assertEquals(seen, ["/api/v1/constants/1/7001", "/api/v1/constants/1/7002"]);
    await assertRejects(
      async () => await fetcher.obtain(input([1, 7003], "blob", 1, { kind: "server" })),
      Error,
      "cannot fetch input 1/7003 from the server: HTTP 404",
    );
    await assertRejects(
      async () => await fetcher.obtain(input([1, 7004], "blob", 1, { kind: "local" })),
      Error,
      "input 1/7004 is not stored on this governor",
    );
  } finally {
    ac.abort();
    await fake.finished;
  }
});

Deno.test("closing the data server cuts responses still streaming", async () => {
  await using a = await tempStore();
  const server = await startDataServer(a.store, { hostname: "127.0.0.1", port: 0 });
  const blob = await a.store.putBlob(newId(), bigBlob(64 * 1024 * 1024));
  const res = await fetch(`http://127.0.0.1:${server.port}/objects/${blob.id[0]}/${blob.id[1]}`);
  const reader = res.body!.getReader();
  await reader.read();
  const t0 = performance.now();
  await server.close();
  // Without cutting, close would wait for a reader that never reads: any bound far below the
  // test's own limit tells the two apart.
  assert(performance.now() - t0 < 10_000, "close is prompt");
  let received = 0;
  let cut = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
    }
  } catch {
    cut = true;
  }
  assert(cut, `body was not cut (received ${received} more bytes)`);
});

Deno.test("blobs in files are served on the accepted connection, to secret holders only", async () => {
  await using a = await tempStore();
  const secret = "s".repeat(43);
  const server = await startDataServer(a.store, { hostname: "127.0.0.1", port: 0, secret });
  try {
    const data = bigBlob(9 * 1024 * 1024);
    const blob = await a.store.putBlob(newId(), data);
    assert(blob.path !== undefined, "a large blob is a file");
    const url = `http://127.0.0.1:${server.port}/objects/${blob.id[0]}/${blob.id[1]}`;
    const refused = await fetch(url);
    assertEquals(refused.status, 401);
    assertEquals((await refused.json()).error.kind, "Unauthorized");
    const res = await fetch(url, { headers: { authorization: `Bearer ${secret}` } });
    assertEquals(res.status, 200);
    assertEquals(res.headers.get(DATA_TYPE_HEADER), "blob");
    assertEquals(new Uint8Array(await res.arrayBuffer()), data);
    // The direct answer (not the relayed HTTP server's): its head as written, then the body.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(
      new TextEncoder().encode(
        `GET /objects/${blob.id[0]}/${blob.id[1]} HTTP/1.1\r\nhost: x\r\n` +
          `authorization: Bearer ${secret}\r\n\r\n`,
      ),
    );
    const raw = await readAll(conn.readable);
    const head = new TextDecoder().decode(raw.subarray(0, 200)).split("\r\n\r\n")[0]!;
    assert(head.includes("connection: close"), head);
    assertEquals(raw.length - head.length - 4, data.length);
    // A HEAD or a missing object is declined and answered by the HTTP routes.
    const missing = await fetch(`http://127.0.0.1:${server.port}/objects/1/999999`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await server.close();
  }
});
