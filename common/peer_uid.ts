/**
 * The user of the other end of a loopback TCP connection (Linux: /proc/net/tcp{,6}), so that a
 * server can tell its own user's tools from other users of the same machine.
 */

/**
 * The uid owning the socket at `peerPort` connected to this machine's `serverPort`, or
 * undefined when unknown (not Linux, connection gone, not loopback).
 */
export function loopbackPeerUid(peerPort: number, serverPort: number): number | undefined {
  const local = `:${hexPort(peerPort)}`;
  const remote = `:${hexPort(serverPort)}`;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
      const fields = line.trim().split(/\s+/);
      const [, localAddress, remoteAddress, , , , , uid] = fields;
      if (localAddress === undefined || remoteAddress === undefined || uid === undefined) continue;
      if (localAddress.endsWith(local) && remoteAddress.endsWith(remote)) return Number(uid);
    }
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, "0");
}

/** This process's uid (undefined where there is none). */
export function ownUid(): number | undefined {
  return Deno.uid() ?? undefined;
}
