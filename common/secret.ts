/**
 * The cluster secret (docs/security.md): a random token every client, governor and dashboard
 * must present to the server (and governors to each other). Sent as `Authorization: Bearer <s>`.
 *
 * A server publishes its secret in a file readable only by its user, keyed by its listen address:
 * `<secrets dir>/<host>_<port>` (this machine's host name for 0.0.0.0 / ::, so that machines
 * sharing a home directory do not overwrite each other's), so that clients, governors and
 * `rain stop` of the same user on the same machine find it without being told. The secrets dir is
 * `$RAIN_SECRETS_DIR`, else `~/.rain/secrets` (mode 0700; files 0600). The Python client
 * (`client_py/rain/client/rpc/secret.py`) looks files up by the same rules.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { lookup } from "node:dns/promises";
import { homedir, hostname, networkInterfaces } from "node:os";
import { join } from "node:path";

/** Environment variable holding a secret for clients, governors and `rain stop`. */
export const SECRET_ENV = "RAIN_SECRET";
/** Environment variable overriding the secrets directory. */
export const SECRETS_DIR_ENV = "RAIN_SECRETS_DIR";
/** The shortest secret accepted (a generated one has 43 characters, 256 bits). */
export const MIN_SECRET_LENGTH = 16;

/** A new random secret: 32 bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** Why `secret` cannot be used, or undefined when it is fine. */
export function secretProblem(secret: string): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH) {
    return `it is too short (${secret.length} characters; at least ${MIN_SECRET_LENGTH})`;
  }
  if (!/^[\x21-\x7e]+$/.test(secret)) {
    return "it may hold only printable ASCII characters without spaces";
  }
  return undefined;
}

/** Compares two secrets in constant time (digests of equal length, so no length leak either). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

/** Request headers carrying `secret` (none when undefined: an `--insecure` cluster). */
export function authHeaders(secret: string | undefined): Record<string, string> {
  return secret === undefined ? {} : { authorization: `Bearer ${secret}` };
}

/** The directory of published secrets. */
export function secretsDir(env: (name: string) => string | undefined = envGet): string {
  const dir = env(SECRETS_DIR_ENV);
  if (dir) return dir;
  return join(env("HOME") || homedir(), ".rain", "secrets");
}

/** The file name of the secret of a server listening on `host:port`. */
export function secretKey(host: string, port: number): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "" || h === "0.0.0.0" || h === "::") h = localHostname().toLowerCase();
  return `${h.replaceAll("/", "_")}_${port}`;
}

/**
 * Reads a secret file: its first line, trimmed. Throws a one-line error naming the file when it
 * cannot be read, is empty, or (with `private`) can be read by other users.
 */
export async function readSecretFile(path: string, privateOnly = true): Promise<string> {
  let text: string;
  try {
    if (privateOnly) {
      const info = await Deno.stat(path);
      if (info.mode !== null && (info.mode & 0o077) !== 0) {
        throw new Error(
          `secret file '${path}' is accessible by other users (mode ` +
            `${(info.mode & 0o777).toString(8).padStart(4, "0")}); run: chmod 600 '${path}'`,
        );
      }
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("secret file")) throw e;
    throw new Error(`cannot read secret file '${path}': ${(e as Error).message}`);
  }
  const secret = text.split("\n", 1)[0]!.trim(); // split gives at least one string
  const problem = secretProblem(secret);
  if (problem) throw new Error(`the secret in '${path}' cannot be used: ${problem}`);
  return secret;
}

/**
 * Reads the first line of `stream` as the secret (`--secret-file -`). Bytes after the newline are
 * dropped: the governor then only watches stdin for its end.
 */
export async function readSecretLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let line = new Uint8Array(0);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const nl = value.indexOf(10);
      const part = nl >= 0 ? value.subarray(0, nl) : value;
      const joined = new Uint8Array(line.length + part.length);
      joined.set(line);
      joined.set(part, line.length);
      line = joined;
      if (nl >= 0) break;
      if (line.length > 4096) throw new Error("the secret line on stdin is too long");
    }
  } finally {
    reader.releaseLock();
  }
  const secret = new TextDecoder().decode(line).trim();
  if (secret === "") throw new Error("no secret on stdin (expected it as the first line)");
  const problem = secretProblem(secret);
  if (problem) throw new Error(`the secret on stdin cannot be used: ${problem}`);
  return secret;
}

/** A published secret; `unpublish()` removes the file if it still holds this secret. */
export interface PublishedSecret {
  path: string;
  unpublish(): Promise<void>;
  /** The same, synchronously: for exit paths where nothing asynchronous runs any more. */
  unpublishSync(): void;
}

/**
 * Writes `secret` to `<secrets dir>/<key>` (dir 0700, file 0600, atomically), replacing a stale
 * file of an earlier server at the same address.
 */
export async function publishSecret(
  host: string,
  port: number,
  secret: string,
  env: (name: string) => string | undefined = envGet,
): Promise<PublishedSecret> {
  const dir = secretsDir(env);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(dir);
  if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
  await pruneStale(dir);
  const path = join(dir, secretKey(host, port));
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, secret + "\n", { mode: 0o600 });
  await Deno.chmod(tmp, 0o600);
  await Deno.rename(tmp, path);
  // Who published it: lets a later server remove it if this one dies without doing so.
  const owner = `${path}${OWNER_SUFFIX}`;
  await Deno.writeTextFile(owner, `${localHostname()} ${Deno.pid}\n`, { mode: 0o600 });
  return {
    path,
    async unpublish() {
      try {
        if ((await Deno.readTextFile(path)).trim() === secret) {
          await Deno.remove(path);
          await Deno.remove(owner).catch(() => {});
        }
      } catch {
        // already gone
      }
    },
    unpublishSync() {
      try {
        if (Deno.readTextFileSync(path).trim() === secret) {
          Deno.removeSync(path);
          Deno.removeSync(owner);
        }
      } catch {
        // already gone
      }
    },
  };
}

const OWNER_SUFFIX = ".owner";

/** Removes secrets published on this machine by servers that are gone (killed, crashed). */
async function pruneStale(dir: string): Promise<void> {
  const here = localHostname();
  try {
    await Deno.stat("/proc/self"); // pids can be checked (Linux) — else prune nothing
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(OWNER_SUFFIX)) continue;
      const owner = join(dir, entry.name);
      const [host, pid] = (await Deno.readTextFile(owner).catch(() => "")).trim().split(" ");
      if (host !== here || !/^\d+$/.test(pid ?? "")) continue;
      try {
        await Deno.stat(`/proc/${pid}`);
        continue; // still running
      } catch {
        // gone
      }
      await Deno.remove(owner.slice(0, -OWNER_SUFFIX.length)).catch(() => {});
      await Deno.remove(owner).catch(() => {});
    }
  } catch {
    // unreadable directory: nothing to prune
  }
}

/** Where a published secret may be found for a server at `host:port` (most specific first). */
export async function secretCandidates(host: string, port: number): Promise<string[]> {
  const keys = [secretKey(host, port)];
  let addresses: string[] = [];
  try {
    addresses = (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    // unresolvable: only the name itself
  }
  for (const a of addresses) keys.push(secretKey(a, port));
  // A server listening on every interface (published under this machine's name) is reachable
  // through any local address.
  if (addresses.some(isLocalAddress) || isLocalAddress(host)) keys.push(secretKey("::", port));
  return [...new Set(keys)];
}

/**
 * The secret to present to the server at `host:port`: `$RAIN_SECRET`, else the file a server of
 * this user published for that address; undefined when there is none (an `--insecure` server).
 */
export async function findSecret(
  host: string,
  port: number,
  env: (name: string) => string | undefined = envGet,
): Promise<string | undefined> {
  const fromEnv = env(SECRET_ENV);
  if (fromEnv) return fromEnv.trim();
  const dir = secretsDir(env);
  for (const key of await secretCandidates(host, port)) {
    try {
      const secret = (await Deno.readTextFile(join(dir, key))).split("\n", 1)[0]!.trim();
      if (secret !== "") return secret;
    } catch {
      // not published under this name
    }
  }
  return undefined;
}

/** True for loopback addresses and the addresses of this machine's interfaces. */
export function isLocalAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  if (isLoopback(a) || a === "localhost") return true;
  try {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) if (i.address.toLowerCase() === a) return true;
    }
  } catch {
    // no permission to list interfaces: loopback only
  }
  return false;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return /^127\.\d+\.\d+\.\d+$/.test(a) || a === "::1" || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
}

/** This machine's host name (as `socket.gethostname()` in Python). */
export function localHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return hostname() || "localhost";
  }
}

function envGet(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
