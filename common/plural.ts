/** Counts in messages: `count(1, "cpu")` is "1 cpu", `count(2, "cpu")` "2 cpus" (issue 17). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
