import { deepStrictEqual, throws } from "node:assert/strict";
import { decodeFrameBody, encodeFrame, FrameSplitter } from "./executor_protocol.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("executor protocol: a frame round-trips its message and binary parts", () => {
  const frame = encodeFrame({ type: "call", method: "m" }, [bytes("abc"), new Uint8Array(0)]);
  const view = new DataView(frame.buffer);
  deepStrictEqual(view.getUint32(0), frame.length - 4);
  const { message, parts } = decodeFrameBody<{ type: string; parts: number[] }>(frame.slice(4));
  deepStrictEqual(message, { type: "call", method: "m", parts: [3, 0] });
  deepStrictEqual(parts.map((p) => new TextDecoder().decode(p)), ["abc", ""]);
});

Deno.test("executor protocol: malformed frames are rejected", () => {
  const good = encodeFrame({ type: "x" }, [bytes("abc")]).slice(4);
  throws(() => decodeFrameBody(good.subarray(0, good.length - 1)), /parts/);
  throws(() => decodeFrameBody(new Uint8Array([0, 0, 0, 9, 1])), /exceeds/);
  const notMessage = new Uint8Array([0, 0, 0, 7, ...bytes("[1,2,3]")]);
  throws(() => decodeFrameBody(notMessage), /not a message/);
});

Deno.test("executor protocol: the splitter reassembles frames from arbitrary chunks", () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const stream = new Uint8Array([
    ...encodeFrame({ type: "a" }),
    ...encodeFrame({ type: "b" }, [big]),
    ...encodeFrame({ type: "c" }, [bytes("z")]),
  ]);
  for (const chunk of [1, 7, 4096, stream.length]) {
    const splitter = new FrameSplitter();
    const got: string[] = [];
    for (let i = 0; i < stream.length; i += chunk) {
      const piece = stream.subarray(i, i + chunk);
      const space = splitter.space(piece.length);
      space.set(piece);
      splitter.commit(piece.length);
      let body;
      while ((body = splitter.next()) !== undefined) {
        const { message, parts } = decodeFrameBody<{ type: string }>(body);
        got.push(message.type + parts.map((p) => p.length).join(","));
        if (message.type === "b") deepStrictEqual(parts[0], big);
      }
    }
    deepStrictEqual(got, ["a", "b200000", "c1"]);
    deepStrictEqual(splitter.buffered, 0);
  }
});
