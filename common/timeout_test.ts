import { assertEquals, assertRejects } from "../governor/test_assert.ts";
import { settlesWithin, TIMED_OUT, withTimeout } from "./timeout.ts";

const never = new Promise<never>(() => {});

Deno.test("withTimeout: the value when in time, TIMED_OUT after the bound, rejections pass", async () => {
  assertEquals(await withTimeout(Promise.resolve(7), 60_000), 7);
  assertEquals(await withTimeout(never, 1), TIMED_OUT);
  await assertRejects(() => withTimeout(Promise.reject(new Error("boom")), 60_000), Error, "boom");
  // The sanitizer fails this test if a 60 s timer were left pending.
});

Deno.test("settlesWithin: resolved and rejected both count, a pending one does not", async () => {
  assertEquals(await settlesWithin(Promise.resolve(), 60_000), true);
  assertEquals(await settlesWithin(Promise.reject(new Error("x")), 60_000), true);
  assertEquals(await settlesWithin(never, 1), false);
});
