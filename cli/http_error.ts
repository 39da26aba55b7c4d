/**
 * A server's error answer in words for the command line (issue 17: `rain status` printed the
 * raw JSON of a wrong `RAIN_SECRET`).
 */

/** Why the server at `where` refused `what` (e.g. "the status"), from its answer. */
export function refusal(
  where: string,
  what: string,
  status: number,
  body: string,
  secretGiven: boolean,
): string {
  if (status === 401) {
    return `the server at ${where} refused ${what}: ${
      secretGiven ? "wrong cluster secret" : "it requires its cluster secret"
    } (give it with RAIN_SECRET; see docs/security.md)`;
  }
  let message = body.trim();
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed?.error?.message === "string") message = parsed.error.message;
  } catch {
    // not JSON: said as it came
  }
  return `the server at ${where} refused ${what} (HTTP ${status})${message ? `: ${message}` : ""}`;
}
