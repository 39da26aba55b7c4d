import type { Retention } from "./events/retention.ts";

/** Everything `rain server` needs, resolved from the command line by main.ts. */
export interface ServerOptions {
  /** Client and governor port (`--listen`). */
  listenHost: string;
  listenPort: number;
  /** Dashboard and monitoring port (`--http-listen`). */
  httpHost: string;
  httpPort: number;
  logDir: string;
  /** Written with one line `ready` once connections are accepted. */
  readyFile?: string;
  /** `RAIN_TEST_MODE=1`: honour `spec.user._testing` placement hints. */
  testMode: boolean;
  /** Record `<logDir>/events.db` (default on; `RAIN_EVENT_LOG=0` turns it off). */
  eventLog?: boolean;
  /** `--log-retention`: what events.db keeps (server/events/retention.ts); default all. */
  logRetention?: Retention;
  /** `RAIN_LOG_RETENTION_INTERVAL` seconds between retention passes (default 3600). */
  logRetentionIntervalMs?: number;
  /** The cluster secret (docs/security.md); undefined: authentication off (`--insecure`). */
  secret?: string;
  /** `--secret-file`: where the secret came from (else it was generated). */
  secretFile?: string;
  /** `--insecure`: run without a secret (warned about). */
  insecure?: boolean;
  /** `--heartbeat-timeout` seconds: a governor silent this long is lost (default 10). */
  heartbeatTimeout?: number;
  /** Keep `<logDir>/journal` (default on; `RAIN_JOURNAL=0` turns it off: no restart). */
  journal?: boolean;
  /** `--fresh`: discard the journal of an earlier server instead of restoring its sessions. */
  fresh?: boolean;
  /** Seconds a restored client has to connect again (default 60). */
  clientReattachTimeout?: number;
}
