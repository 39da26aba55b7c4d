/** `rain drain GOVERNOR [--server SERVER[:PORT]]`: stops a governor without losing its work. */
import { type Address, DEFAULT_SERVER_PORT, formatAddress, serverArgument } from "./address.ts";
import { parseCommandArgs, stringValue } from "./args.ts";
import { UsageError } from "./errors.ts";
import type { Io } from "./io.ts";
import { authHeaders, findSecret, readSecretFile } from "../common/secret.ts";
import { resolve } from "node:path";

export const DRAIN_USAGE = `Usage: rain drain GOVERNOR [--server SERVER[:PORT]] [--secret-file FILE]

Drains a governor (POST /api/v1/governors/drain): the server gives it no new work, lets its
tasks finish, copies the objects only it holds and still needed to other governors, then tells
it to stop. Returns once the server has accepted; the governor leaves 'rain status' when done.
GOVERNOR is its id as 'rain status' shows it (IP:PORT of its data listener).

Options:
  --server SERVER[:PORT]  the server (default: 127.0.0.1:${DEFAULT_SERVER_PORT})
  --secret-file FILE      the cluster secret (default: $RAIN_SECRET, else the one the server
                          published for this user on this machine in ~/.rain/secrets)
  -h, --help              show this help
`;

export type DrainCommand = { help: true } | {
  help: false;
  governor: string;
  server: Address;
  secretFile?: string;
};

export function parseDrainArgs(argv: string[]): DrainCommand {
  const args = parseCommandArgs("drain", argv, {
    "server": { type: "string" },
    "secret-file": { type: "string" },
  });
  if (args.help) return { help: true };
  const [governor, ...more] = args.positionals;
  if (governor === undefined) throw new UsageError("missing GOVERNOR", "drain");
  if (more.length > 0) throw new UsageError(`unexpected argument '${more[0]}'`, "drain");
  const serverText = stringValue(args, "server");
  const server = serverArgument(serverText === undefined ? [] : [serverText], "drain");
  const secretFile = stringValue(args, "secret-file");
  return secretFile === undefined
    ? { help: false, governor, server }
    : { help: false, governor, server, secretFile: resolve(secretFile) };
}

/** Runs `rain drain`: returns its exit code. */
export async function runDrain(command: Exclude<DrainCommand, { help: true }>, io: Io) {
  const where = formatAddress(command.server);
  const secret = command.secretFile !== undefined
    ? await readSecretFile(command.secretFile)
    : await findSecret(command.server.host, command.server.port);
  try {
    const res = await fetch(`http://${where}/api/v1/governors/drain`, {
      method: "POST",
      signal: AbortSignal.timeout(10000),
      headers: { ...authHeaders(secret), "content-type": "application/json" },
      body: JSON.stringify({ governor: command.governor }),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ??
          message;
      } catch { /* not JSON */ }
      io.err(`rain: the server at ${where} did not drain ${command.governor}: ${message}\n`);
      return 1;
    }
  } catch (e) {
    io.err(`rain: no Rain server answers at ${where} (${(e as Error).message})\n`);
    return 1;
  }
  io.out(`governor ${command.governor} drains\n`);
  return 0;
}
