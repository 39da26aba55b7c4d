/**
 * Network addresses on the command line.
 *
 * Listen addresses (`--listen`, `--http-listen`): `PORT`, `IP` or `IP:PORT` (Rain 0.4; also
 * `localhost`; IPv6 as `[::1]:7210`, or bare `::1` without a port): anything else is refused
 * here, naming the option, rather than when the listener fails to start. Server addresses (`rain governor SERVER`,
 * `rain stop SERVER`): `HOST` or `HOST:PORT`.
 */
import { UsageError } from "./errors.ts";

export interface Address {
  host: string;
  port: number;
}

export const DEFAULT_SERVER_PORT = 7210;
export const DEFAULT_HTTP_PORT = 7222;

export interface AddressRules {
  /** Used when only a port is given. */
  defaultHost: string;
  /** Used when only a host is given. */
  defaultPort: number;
  /** A lone number is a port (listen forms) rather than an error. */
  barePort: boolean;
  /** Port 0 (= any free port) is allowed. */
  allowPortZero: boolean;
  /** How the value is named in errors, e.g. `--listen`. */
  what: string;
  /** Subcommand for the `--help` hint. */
  command: string;
  /** Only an IP address (or `localhost`) may be the host: a listen address. */
  ipOnly?: boolean;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

export function parseAddress(text: string, rules: AddressRules): Address {
  const bad = (why: string) =>
    new UsageError(`${rules.what} '${text}' is not valid: ${why}`, rules.command);
  const forms = rules.barePort ? "expected PORT, IP or IP:PORT" : "expected HOST or HOST:PORT";
  if (text === "") throw bad(forms);
  const portOf = (p: string): number => {
    if (!/^\d+$/.test(p)) throw bad(`port '${p}' is not a number`);
    const port = Number(p);
    if (port > 65535) throw bad(`port ${port} is out of range (0-65535)`);
    if (port === 0 && !rules.allowPortZero) throw bad("port 0 is not allowed here");
    return port;
  };
  if (/^\d+$/.test(text)) {
    if (!rules.barePort) throw bad(`${forms} (a port alone is not enough)`);
    return { host: rules.defaultHost, port: portOf(text) };
  }
  if (text.startsWith("[")) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
    if (!m) throw bad("IPv6 addresses are written [ADDR] or [ADDR]:PORT");
    const host = m[1]!; // the group is not optional
    if (!host.includes(":") || !IPV6.test(host)) throw bad(`'${host}' is not an IPv6 address`);
    return { host, port: m[2] === undefined ? rules.defaultPort : portOf(m[2]) };
  }
  const colons = text.split(":").length - 1;
  if (colons > 1) {
    if (!IPV6.test(text)) throw bad(`'${text}' is not an IPv6 address`);
    return { host: text, port: rules.defaultPort };
  }
  let host = text;
  let port = rules.defaultPort;
  if (colons === 1) {
    const i = text.indexOf(":");
    host = text.slice(0, i);
    port = portOf(text.slice(i + 1));
    if (host === "") throw bad(`${forms} (the host before ':' is missing)`);
  }
  checkHost(host, bad, rules.ipOnly === true);
  return { host, port };
}

function checkHost(host: string, bad: (why: string) => UsageError, ipOnly: boolean): void {
  const labels = host.split(".");
  if (labels.every((l) => /^\d+$/.test(l))) {
    const m = IPV4.exec(host);
    if (!m || m.slice(1).some((x) => Number(x) > 255)) {
      throw bad(`'${host}' is not an IPv4 address`);
    }
    return;
  }
  if (ipOnly && host !== "localhost") {
    throw bad(`'${host}' is not an IP address (expected PORT, IP or IP:PORT)`);
  }
  if (host.length > 253 || !labels.every((l) => HOST_LABEL.test(l))) {
    throw bad(`'${host}' is not an IP address or host name`);
  }
}

/** `host:port`, with brackets around IPv6 hosts. */
export function formatAddress(a: Address): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** True for the "any interface" addresses `0.0.0.0` and `::`. */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]" || host === "";
}

/**
 * The server address of `rain status|stop [ADDRESS]` (default 127.0.0.1, a bare number is a
 * port), as an address to connect to.
 */
export function serverArgument(positionals: string[], command: string): Address {
  if (positionals.length > 1) {
    throw new UsageError(`unexpected argument '${positionals[1]}'`, command);
  }
  return connectAddress(parseAddress(positionals[0] ?? "127.0.0.1", {
    defaultHost: "127.0.0.1",
    defaultPort: DEFAULT_SERVER_PORT,
    barePort: true,
    allowPortZero: false,
    what: "server address",
    command,
  }));
}

/** Where to connect to reach a server listening on `listen` from the same machine. */
export function connectAddress(listen: Address): Address {
  if (listen.host === "::" || listen.host === "[::]") return { host: "::1", port: listen.port };
  if (isWildcard(listen.host)) return { host: "127.0.0.1", port: listen.port };
  return listen;
}

/** Rules of a `--listen`-style option of `command`. */
export function listenRules(
  what: string,
  command: string,
  defaultPort: number,
  defaultHost = "0.0.0.0",
): AddressRules {
  return {
    defaultHost,
    defaultPort,
    barePort: true,
    allowPortZero: true,
    what,
    command,
    ipOnly: true,
  };
}

/** Rules of a `SERVER[:PORT]` argument of `command`. */
export function serverRules(what: string, command: string): AddressRules {
  return {
    defaultHost: "127.0.0.1",
    defaultPort: DEFAULT_SERVER_PORT,
    barePort: false,
    allowPortZero: false,
    what,
    command,
  };
}
