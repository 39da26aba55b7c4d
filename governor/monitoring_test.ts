import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Monitor, parseCpuTimes, parseMemUsage, parseNetStat } from "./monitoring.ts";

Deno.test("cpu times per core from /proc/stat", () => {
  const stat = "cpu  10 0 10 80 0 0 0 0 0 0\n" +
    "cpu0 5 1 4 40 10 0 0 0 7 0\n" +
    "cpu1 0 0 0 100 0 0 0 0 0 0\nintr 1 2 3\n";
  assertEquals(parseCpuTimes(stat), [{ busy: 10, total: 60 }, { busy: 0, total: 100 }]);
  assertEquals(parseCpuTimes(""), []);
});

Deno.test("memory in use from /proc/meminfo", () => {
  assertEquals(parseMemUsage("MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 250 kB\n"), 75);
  assertEquals(parseMemUsage("nothing"), 0);
});

Deno.test("network byte counters from /proc/net/dev", () => {
  const dev = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n" +
    "    lo: 100 2 0 0 0 0 0 0 100 2 0 0 0 0 0 0\n" +
    "  eth0: 5000 10 0 0 0 0 0 0 700 5 0 0 0 0 0 0\n";
  assertEquals(parseNetStat(dev), { lo: [100, 100], eth0: [5000, 700] });
});

Deno.test("a sample of this machine", () => {
  const m = new Monitor().sample();
  assertEquals(m.type, "monitoring");
  ok(!Number.isNaN(Date.parse(m.timestamp)));
  ok(m.cpu_usage.every((c) => c >= 0 && c <= 100));
  ok(m.mem_usage >= 0 && m.mem_usage <= 100);
  if (Deno.build.os === "linux") {
    ok(m.cpu_usage.length > 0 && m.mem_usage > 0 && Object.keys(m.net_stat).length > 0);
  }
});
