import assert from "node:assert/strict";
import { parseStopArgs } from "./stop.ts";
import { assertUsageError } from "./test_util.ts";

function server(argv: string[]) {
  const cmd = parseStopArgs(argv);
  if (cmd.help) throw new Error("unexpected help");
  return cmd.server;
}

Deno.test("rain stop addresses", () => {
  assert.deepEqual(server([]), { host: "127.0.0.1", port: 7210 });
  assert.deepEqual(server(["7300"]), { host: "127.0.0.1", port: 7300 });
  assert.deepEqual(server(["localhost"]), { host: "localhost", port: 7210 });
  assert.deepEqual(server(["10.1.1.1:7300"]), { host: "10.1.1.1", port: 7300 });
  assert.deepEqual(server(["0.0.0.0:7300"]), { host: "127.0.0.1", port: 7300 });
  assert.deepEqual(server(["[::1]:7300"]), { host: "::1", port: 7300 });
  assert.deepEqual(parseStopArgs(["--help"]), { help: true });
});

Deno.test("rain stop timeout and errors", () => {
  const cmd = parseStopArgs([], (n) => n === "RAIN_STOP_TIMEOUT" ? "2.5" : undefined);
  assert.equal(!cmd.help && cmd.timeout, 2.5);
  assertUsageError(() => parseStopArgs(["a", "b"]), /unexpected argument 'b'/, "stop");
  assertUsageError(() => parseStopArgs(["--force"]), /unknown option '--force'/, "stop");
  assertUsageError(() => parseStopArgs(["0"]), /port 0 is not allowed/);
  assertUsageError(() => parseStopArgs(["h:99999"]), /out of range/);
  assertUsageError(() => parseStopArgs([], () => "soon"), /RAIN_STOP_TIMEOUT must be/);
});

Deno.test("rain stop --secret-file", () => {
  const cmd = parseStopArgs(["host:1", "--secret-file=/run/s"]);
  assert.ok(!cmd.help && cmd.secretFile === "/run/s");
});
