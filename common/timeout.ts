/**
 * Bounding a wait: the one helper for "the promise, or give up after `ms`". The timer is cleared
 * as soon as the promise settles, so a finished wait leaves no pending timer behind (which would
 * keep a process alive for `ms` and trips Deno's test sanitizers).
 */

/** What `withTimeout` gives when the promise did not settle in time. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** `promise`'s value, or `TIMED_OUT` after `ms`; a rejection within `ms` propagates. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** True when `promise` settled (resolved or rejected) within `ms`; never rejects. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = promise.then(() => true, () => true);
  return await withTimeout(settled, ms) !== TIMED_OUT;
}
