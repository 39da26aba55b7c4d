/** `rain stop [SERVER[:PORT]]`: asks a server to shut down itself and its governors. */
import { type Address, DEFAULT_SERVER_PORT, formatAddress, serverArgument } from "./address.ts";
import { parseCommandArgs } from "./args.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";
import { answers } from "./start.ts";
import { authHeaders, findSecret, readSecretFile } from "../common/secret.ts";
import { resolve } from "node:path";

export const DEFAULT_STOP_TIMEOUT = 15;

export const STOP_USAGE = `Usage: rain stop [SERVER[:PORT]] [--secret-file FILE]

Shuts down a Rain server and its governors (POST /api/v1/shutdown), then waits until the
server's port stops answering. SERVER[:PORT] may also be just a PORT; 0.0.0.0 means this
machine. (default: 127.0.0.1:${DEFAULT_SERVER_PORT})

Options:
  --secret-file FILE   the cluster secret (default: $RAIN_SECRET, else the one the server
                       published for this user on this machine in ~/.rain/secrets)
  -h, --help           show this help

Environment:
  RAIN_STOP_TIMEOUT=S  seconds to wait for the server to go away (default: ${DEFAULT_STOP_TIMEOUT})
  RAIN_SECRET          the cluster secret
`;

export type StopCommand = { help: true } | {
  help: false;
  server: Address;
  timeout: number;
  secretFile?: string;
};

export function parseStopArgs(
  argv: string[],
  env: (name: string) => string | undefined = () => undefined,
): StopCommand {
  const args = parseCommandArgs("stop", argv, { "secret-file": { type: "string" } });
  if (args.help) return { help: true };
  const server = serverArgument(args.positionals, "stop");
  let timeout = DEFAULT_STOP_TIMEOUT;
  const t = env("RAIN_STOP_TIMEOUT");
  if (t !== undefined && t.trim() !== "") {
    timeout = Number(t.trim());
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new UsageError(
        `RAIN_STOP_TIMEOUT must be a positive number of seconds (got '${t}')`,
        "stop",
      );
    }
  }
  const secretFile = args.values.get("secret-file");
  if (typeof secretFile === "string") {
    return { help: false, server, timeout, secretFile: resolve(secretFile) };
  }
  return { help: false, server, timeout };
}

/** Runs `rain stop`: returns its exit code. */
export async function runStop(
  server: Address,
  timeout: number,
  io: Io,
  secretFile?: string,
): Promise<number> {
  const where = formatAddress(server);
  const base = `http://${where}/api/v1`;
  const secret = secretFile !== undefined
    ? await readSecretFile(secretFile)
    : await findSecret(server.host, server.port);
  const headers = authHeaders(secret);
  let governors: string[] | undefined;
  try {
    const res = await fetch(`${base}/server_info`, {
      signal: AbortSignal.timeout(5000),
      headers,
    });
    if (res.ok) {
      const info = await res.json() as { governors?: { governor_id?: string }[] };
      governors = info.governors?.map((g) => String(g.governor_id));
    } else {
      await res.body?.cancel();
    }
  } catch (e) {
    if (!(await answers(server))) {
      io.err(`rain: no Rain server answers at ${where} (${reason(e)})\n`);
      return 1;
    }
    // It accepts connections but did not answer server_info: still try to shut it down.
  }

  try {
    const res = await fetch(`${base}/shutdown`, {
      method: "POST",
      signal: AbortSignal.timeout(10000),
      headers,
    });
    const text = await res.text();
    if (res.status === 401) {
      io.err(
        `rain: the server at ${where} refused to shut down: ${
          secret === undefined ? "it requires its cluster secret" : "wrong cluster secret"
        } (give it with --secret-file or RAIN_SECRET; see docs/security.md)\n`,
      );
      return 1;
    }
    if (!res.ok) {
      io.err(
        `rain: the server at ${where} refused to shut down: HTTP ${res.status} ${text.trim()}\n`,
      );
      return 1;
    }
  } catch (e) {
    // A server that exits right away may drop the connection before answering.
    if (await answers(server)) {
      io.err(`rain: shutdown request to ${where} failed (${reason(e)})\n`);
      return 1;
    }
  }

  const deadline = Date.now() + timeout * 1000;
  while (await answers(server)) {
    if (Date.now() > deadline) {
      io.err(`rain: the server at ${where} still answers ${timeout} s after the shutdown\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const gov = governors === undefined
    ? ""
    : governors.length === 0
    ? " (no governors were connected)"
    : ` and ${governors.length} governor${governors.length === 1 ? "" : "s"} ` +
      `(${governors.join(", ")})`;
  io.out(`Rain stopped: server at ${where}${gov}\n`);
  return 0;
}

function reason(e: unknown): string {
  const err = e as Error;
  if (err?.name === "TimeoutError") return "no answer in time";
  const cause = (err as { cause?: Error })?.cause;
  const msg = cause?.message ?? err?.message ?? String(e);
  if (/refused/i.test(msg)) return "connection refused";
  return msg.split("\n", 1)[0] ?? "";
}
