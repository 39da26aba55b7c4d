import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Decoder } from "@msgpack/msgpack";
import type { AssignedTask, ToGovernorWire } from "../common/messages.ts";
import { unpackTasks } from "../common/packed_tasks.ts";
import { GovernorLinks } from "./governor_links.ts";

/** The socket side GovernorLinks uses: records the frames it is given. */
function recordingSocket(): { socket: WebSocket; frames: ToGovernorWire[][] } {
  const frames: ToGovernorWire[][] = [];
  const decoder = new Decoder();
  const socket = {
    readyState: WebSocket.OPEN,
    send: (frame: Uint8Array) => frames.push(decoder.decode(frame) as ToGovernorWire[]),
  } as unknown as WebSocket;
  return { socket, frames };
}

function concat(id: number): AssignedTask {
  return {
    spec: {
      id: [1, id],
      task_type: "buildin/concat",
      inputs: [{ id: [1, 1] }],
      outputs: [[1, id + 1]],
      resources: { cpus: 1 },
    },
    inputs: [{ spec: { id: [1, 1], data_type: "blob" }, size: 3, source: { kind: "local" } }],
    outputs: [{ id: [1, id + 1], data_type: "blob" }],
  };
}

Deno.test("GovernorLinks packs assign_tasks for governors that read it, and only for them", () => {
  const links = new GovernorLinks();
  const packing = recordingSocket();
  const older = recordingSocket();
  links.add("new:1", packing.socket, true);
  links.add("old:1", older.socket);
  const tasks = [concat(10), concat(20)];
  // Not packable (an input of another session): it follows as assign_tasks, nothing is lost.
  const odd = concat(30);
  odd.inputs[0]!.spec.id = [2, 1];
  for (const governor of ["new:1", "old:1"]) {
    links.send(governor, { type: "delete_objects", objects: [[1, 5]] });
    links.send(governor, { type: "assign_tasks", tasks: [...tasks, odd] });
  }
  links.flush();

  assertEquals(packing.frames.length, 1);
  const [deleted, packed, rest] = packing.frames[0]!;
  assertEquals(deleted, { type: "delete_objects", objects: [[1, 5]] });
  assertEquals(packed?.type, "assign_packed");
  if (packed?.type === "assign_packed") assertEquals(unpackTasks(packed), tasks);
  assertEquals(rest, { type: "assign_tasks", tasks: [odd] });

  assertEquals(older.frames, [[
    { type: "delete_objects", objects: [[1, 5]] },
    { type: "assign_tasks", tasks: [...tasks, odd] },
  ]]);
});
