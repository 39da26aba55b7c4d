/**
 * Finding the cluster secret of a server (see the Rain repository's docs/security.md): a server
 * publishes its secret for its own user in `<secrets dir>/<host>_<port>` (`any_<port>` when it
 * listens on every interface), where the secrets dir is `$RAIN_SECRETS_DIR` or `~/.rain/secrets`.
 * A client of the same user on the same machine thus needs no secret argument. The same rules as
 * the server's `common/secret.ts` and the Python client's `rpc/secret.py`. Only what the program
 * may already access is looked at: Deno is never made to prompt for a permission.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";

/** Environment variable holding the secret. */
export const SECRET_ENV = "RAIN_SECRET";
/** Environment variable overriding the secrets directory. */
export const SECRETS_DIR_ENV = "RAIN_SECRETS_DIR";

/** True if the permission is granted already: the client never makes Deno prompt for one. */
function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** An environment variable, if set and readable (undefined without the permission). */
export function env(name: string): string | undefined {
  if (!granted({ name: "env", variable: name })) return undefined;
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** The directory of published secrets. */
export function secretsDir(): string | undefined {
  const explicit = env(SECRETS_DIR_ENV);
  if (explicit) return explicit;
  const home = env("HOME");
  return home ? `${home}/.rain/secrets` : undefined;
}

/** The file name of the secret of a server listening on `host:port`. */
export function secretKey(host: string, port: number): string {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h === "" || h === "0.0.0.0" || h === "::") h = "any";
  return `${h.replaceAll("/", "_")}_${port}`;
}

function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  return /^127\./.test(a) || a === "::1" || /^::ffff:127\./.test(a) ||
    a === "localhost";
}

function isLocal(address: string): boolean {
  if (isLoopback(address)) return true;
  if (!granted({ name: "sys", kind: "networkInterfaces" })) return false;
  try {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) {
        if (i.address.toLowerCase() === address.toLowerCase()) return true;
      }
    }
  } catch {
    // no --allow-sys: loopback only
  }
  return false;
}

/** Names under which the secret of `host:port` may be published, most specific first. */
export async function candidateKeys(
  host: string,
  port: number,
): Promise<string[]> {
  const keys = [secretKey(host, port)];
  let addresses: string[] = [];
  try {
    if (granted({ name: "net", host })) {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    }
  } catch {
    // unresolvable: the name itself only
  }
  for (const a of addresses) keys.push(secretKey(a, port));
  if (isLocal(host) || addresses.some(isLocal)) {
    keys.push(secretKey("any", port));
  }
  return [...new Set(keys)];
}

/**
 * The secret to present to the server at `host:port`: `$RAIN_SECRET`, else the file a server of
 * this user published for that address, else undefined (a server started with `--insecure`).
 */
export async function findSecret(
  host: string,
  port: number,
): Promise<string | undefined> {
  const fromEnv = env(SECRET_ENV)?.trim();
  if (fromEnv) return fromEnv;
  const dir = secretsDir();
  if (dir === undefined) return undefined;
  for (const key of await candidateKeys(host, port)) {
    const path = `${dir}/${key}`;
    if (!granted({ name: "read", path })) continue;
    try {
      const secret = (await Deno.readTextFile(path)).split("\n", 1)[0]!.trim();
      if (secret) return secret;
    } catch {
      // not published under this name (or not readable)
    }
  }
  return undefined;
}
