/**
 * Downloads from a stalled or lost peer (issue 12): a peer that accepts connections and answers
 * nothing (as a SIGSTOPped governor does) holds a download only until the server says it stalled
 * (when another copy can be read) or was lost.
 */
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import type { AssignedInput } from "./fetch_input.ts";
import { InputFetcher } from "./fetch_input.ts";
import { newId, tempStore } from "./test_util.ts";

const PAYLOAD = new TextEncoder().encode("the other copy");

/** A peer that accepts connections and never answers; `accepted` settles at the first one. */
function silentPeer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  let accepted!: () => void;
  const first = new Promise<void>((resolve) => accepted = resolve);
  (async () => {
    for await (const conn of listener) {
      held.push(conn);
      accepted();
    }
  })().catch(() => {});
  return {
    id: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    accepted: first,
    close() {
      listener.close();
      for (const conn of held) conn.close();
    },
  };
}

/** A peer that answers every object with PAYLOAD. */
function answeringPeer() {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(PAYLOAD, { headers: { "content-length": String(PAYLOAD.length) } }),
  );
  return { id: `127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

function input(governors: string[]): AssignedInput {
  return {
    spec: { id: newId(), data_type: "blob" },
    size: PAYLOAD.length,
    source: { kind: "governors", governors },
  };
}

Deno.test("a download from a peer that stalls moves on to the next copy", async () => {
  await using stored = await tempStore();
  const fetcher = new InputFetcher(stored.store, "127.0.0.1", 1);
  const silent = silentPeer();
  const answering = answeringPeer();
  try {
    const obtained = fetcher.obtain(input([silent.id, answering.id]));
    await silent.accepted; // the download waits on the silent peer
    fetcher.peerState(silent.id, "stalled");
    const object = await obtained;
    assertEquals(await stored.store.readBytes(object), PAYLOAD);
  } finally {
    silent.close();
    await answering.close();
  }
});

Deno.test("a peer known stalled is tried last", async () => {
  await using stored = await tempStore();
  const fetcher = new InputFetcher(stored.store, "127.0.0.1", 1);
  const silent = silentPeer();
  const answering = answeringPeer();
  try {
    fetcher.peerState(silent.id, "stalled");
    const object = await fetcher.obtain(input([silent.id, answering.id]));
    assertEquals(await stored.store.readBytes(object), PAYLOAD);
  } finally {
    silent.close();
    await answering.close();
  }
});

Deno.test("a stalled sole holder is waited for; its loss fails the download naming it", async () => {
  await using stored = await tempStore();
  const fetcher = new InputFetcher(stored.store, "127.0.0.1", 1);
  const silent = silentPeer();
  try {
    const obtained = fetcher.obtain(input([silent.id]));
    let settled = false;
    void Promise.resolve(obtained).then(() => settled = true, () => settled = true);
    await silent.accepted;
    fetcher.peerState(silent.id, "stalled"); // no other copy: it may still answer
    await new Promise((resolve) => setTimeout(resolve, 0));
    ok(!settled && fetcher.pending === 1);
    fetcher.peerState(silent.id, "lost");
    await rejects(
      Promise.resolve(obtained),
      new RegExp(`^Error: cannot fetch input 1/\\d+: ${silent.id}: governor ${silent.id} was lost`),
    );
    assertEquals(fetcher.pending, 0);
  } finally {
    silent.close();
  }
});
