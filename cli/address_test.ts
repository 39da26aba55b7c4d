import assert from "node:assert/strict";
import {
  connectAddress,
  formatAddress,
  listenRules,
  parseAddress,
  serverRules,
} from "./address.ts";
import { assertUsageError } from "./test_util.ts";

const listen = listenRules("--listen", "server", 7210);
const server = serverRules("server address", "governor");

Deno.test("listen address: PORT, IP, IP:PORT, localhost, IPv6", () => {
  assert.deepEqual(parseAddress("7300", listen), { host: "0.0.0.0", port: 7300 });
  assert.deepEqual(parseAddress("0", listen), { host: "0.0.0.0", port: 0 });
  assert.deepEqual(parseAddress("127.0.0.1", listen), { host: "127.0.0.1", port: 7210 });
  assert.deepEqual(parseAddress("127.0.0.1:80", listen), { host: "127.0.0.1", port: 80 });
  assert.deepEqual(parseAddress("localhost:9000", listen), { host: "localhost", port: 9000 });
  assert.deepEqual(parseAddress("[::1]:7000", listen), { host: "::1", port: 7000 });
  assert.deepEqual(parseAddress("[::]", listen), { host: "::", port: 7210 });
  assert.deepEqual(parseAddress("::1", listen), { host: "::1", port: 7210 });
  assert.deepEqual(parseAddress("65535", listen), { host: "0.0.0.0", port: 65535 });
});

Deno.test("listen address errors", () => {
  assertUsageError(() => parseAddress("", listen), /--listen '' is not valid/, "server");
  assertUsageError(() => parseAddress("65536", listen), /out of range/);
  assertUsageError(() => parseAddress("1.2.3.4:99999", listen), /out of range/);
  assertUsageError(() => parseAddress("1.2.3.4:", listen), /port '' is not a number/);
  assertUsageError(() => parseAddress("1.2.3.4:x", listen), /port 'x' is not a number/);
  assertUsageError(() => parseAddress(":80", listen), /host before ':' is missing/);
  assertUsageError(() => parseAddress("300.1.1.1", listen), /not an IPv4 address/);
  assertUsageError(() => parseAddress("1.2.3", listen), /not an IPv4 address/);
  assertUsageError(() => parseAddress("bad_host", listen), /not an IP address/);
  // Rain 0.4: an IP, not a host name (issue 17: `--listen=abc` used to fail only at start).
  assertUsageError(
    () => parseAddress("abc", listen),
    /--listen 'abc' is not valid: 'abc' is not an IP address \(expected PORT, IP or IP:PORT\)/,
    "server",
  );
  assertUsageError(() => parseAddress("node-1.cluster:80", listen), /not an IP address/);
  assertUsageError(() => parseAddress("[::1", listen), /IPv6 addresses are written/);
  assertUsageError(() => parseAddress("[1.2.3.4]:5", listen), /not an IPv6 address/);
  assertUsageError(() => parseAddress("::g", listen), /not an IPv6 address/);
  assertUsageError(() => parseAddress("-5", listen), /not an IP address/);
});

Deno.test("server address: HOST[:PORT], port defaults to 7210, no port 0, no bare port", () => {
  assert.deepEqual(parseAddress("localhost", server), { host: "localhost", port: 7210 });
  assert.deepEqual(parseAddress("10.0.0.5:7300", server), { host: "10.0.0.5", port: 7300 });
  assert.deepEqual(parseAddress("[::1]:7300", server), { host: "::1", port: 7300 });
  assertUsageError(() => parseAddress("7210", server), /a port alone is not enough/, "governor");
  assertUsageError(() => parseAddress("host:0", server), /port 0 is not allowed/);
});

Deno.test("formatAddress and connectAddress", () => {
  assert.equal(formatAddress({ host: "1.2.3.4", port: 5 }), "1.2.3.4:5");
  assert.equal(formatAddress({ host: "::1", port: 5 }), "[::1]:5");
  assert.deepEqual(connectAddress({ host: "0.0.0.0", port: 7210 }), {
    host: "127.0.0.1",
    port: 7210,
  });
  assert.deepEqual(connectAddress({ host: "::", port: 1 }), { host: "::1", port: 1 });
  assert.deepEqual(connectAddress({ host: "10.1.1.1", port: 1 }), { host: "10.1.1.1", port: 1 });
});
