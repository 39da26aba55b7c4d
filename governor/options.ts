import type { ResourceSettings } from "./resources.ts";

/** Everything `rain governor` needs, resolved from the command line by main.ts. */
export interface GovernorOptions {
  serverHost: string;
  serverPort: number;
  /** Resolved number of cpus (`--cpus detect|N|-X` already applied). */
  cpus: number;
  /** `--memory`, `--gpus`, `--resources` (over the config's `[resources]`; see resources.ts). */
  resources?: ResourceSettings;
  /**
   * Data listener for governor-to-governor transfers (`--listen`); host "" (the default): the
   * interface this governor reaches its server by.
   */
  listenHost: string;
  listenPort: number;
  workDir: string;
  logDir: string;
  /** Written with one line `ready` once registered with the server. */
  readyFile?: string;
  /** TOML config (`--config`), already resolved to an absolute path. */
  configFile?: string;
  /** Seconds before a deleted object is really removed (`RAIN_DELETE_LIST_TIMEOUT`, default 5). */
  deleteListTimeout: number;
  /**
   * Seconds a governor whose link dropped keeps trying to reach the server before it exits
   * (`RAIN_RECONNECT_TIMEOUT`, default 60; 0 = exit at once, as Rain 0.4).
   */
  reconnectTimeout?: number;
  /** Seconds between resource usage reports (`RAIN_MONITORING_INTERVAL`, default 2; 0 = none). */
  monitoringInterval?: number;
  /** The cluster secret presented to the server and required from peers (docs/security.md). */
  secret?: string;
  /** `--secret-file`: read by `rain governor` into `secret` (`-`: the first line of stdin). */
  secretFile?: string;
  /** `--watch-stdin`: `rain governor` exits when its stdin ends (started over ssh/srun). */
  watchStdin?: boolean;
  /** `--allow-read/--allow-write/--allow-run`: limits of Load/LoadDir, Store, Execute. */
  permissions?: PermissionLists;
}

/** Allow lists (paths, programs); an absent list leaves that kind unrestricted. */
export interface PermissionLists {
  read?: string[];
  write?: string[];
  run?: string[];
}
