/** Everything `rain governor` needs, resolved from the command line by main.ts. */
export interface GovernorOptions {
  serverHost: string;
  serverPort: number;
  /** Resolved number of cpus (`--cpus detect|N|-X` already applied). */
  cpus: number;
  /** Data listener for governor-to-governor transfers (`--listen`, default 0.0.0.0:0). */
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
}
