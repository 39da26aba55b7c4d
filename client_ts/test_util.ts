/**
 * A real Rain cluster for the client's tests: `rain server` and `rain governor`s on free loopback
 * ports, in a temporary directory. Every process started is stopped by its pid (SIGTERM, then
 * SIGKILL) and the directory is removed, also when a start fails half-way. `RAIN_TEST_BIN`
 * overrides the `./rain` launcher of this repository. Not part of the published package.
 */
import { Client } from "./client.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
export const RAIN_BIN: string = Deno.env.get("RAIN_TEST_BIN") || `${REPO}/rain`;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/** Ports handed out by `freePort`, never handed twice. */
const handedPorts = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range: a port
 * from that range (what binding to port 0 gives) can be taken as the local port of any outgoing
 * connection before the server that was told to use it binds it.
 */
export function freePort(): number {
  let low = 32768;
  try {
    low = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").split(/\s+/)[0]) ||
      low;
  } catch { /* not Linux: the default range */ }
  for (let i = 0; i < 200; i++) {
    const port = Math.max(1024, low - 12000) +
      Math.floor(Math.random() * Math.min(12000, low - 1024));
    if (handedPorts.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch {
      continue;
    }
    handedPorts.add(port);
    return port;
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

class Process {
  readonly name: string;
  readonly out: string;
  readonly child: Deno.ChildProcess;
  exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(
    name: string,
    args: string[],
    out: string,
    env: Record<string, string>,
  ) {
    this.name = name;
    this.out = out;
    // Through `exec` in a shell: the output goes to a file, the child is `rain` itself.
    this.child = new Deno.Command("/bin/sh", {
      args: ["-c", 'exec "$0" "$@" >"$RAIN_TEST_OUT" 2>&1', RAIN_BIN, ...args],
      env: { ...env, RAIN_TEST_OUT: out },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
      cwd: REPO,
    }).spawn();
    this.status = this.child.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      try {
        this.child.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* gone */ }
      }, STOP_TIMEOUT_MS);
      await this.status;
      clearTimeout(timer);
    }
    await this.status;
  }

  describe(): string {
    let tail = "";
    try {
      tail = Deno.readTextFileSync(this.out).split("\n").slice(-40).join("\n");
    } catch { /* no output */ }
    return `--- ${this.name} (${this.exited ? "exited" : "running"}):\n${tail}`;
  }
}

/** Options of a test cluster. */
export interface ClusterOptions {
  /** Cpus of each governor (default one governor of 2 cpus). */
  governors?: number[];
  /** Extra environment of the server. */
  serverEnv?: Record<string, string>;
  /** Extra environment of the governors. */
  governorEnv?: Record<string, string>;
  /** TOML text of a governor `--config` file. */
  governorConfig?: string;
}

/** A running cluster; `await using` stops it. */
export class TestCluster implements AsyncDisposable {
  readonly workspace: string;
  readonly port: number;
  readonly httpPort: number;
  readonly processes: Process[] = [];
  readonly #clients: Client[] = [];

  private constructor(workspace: string) {
    this.workspace = workspace;
    this.port = freePort();
    this.httpPort = freePort();
  }

  /** `127.0.0.1:<port>` of the server. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts a server and governors and waits until all are ready. */
  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(
      await Deno.makeTempDir({ prefix: "rain-ts-test-" }),
    );
    try {
      await cluster.#start(options);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** Where the server publishes its secret (private to this cluster). */
  get secretsDir(): string {
    return `${this.workspace}/secrets`;
  }

  /** The cluster secret the server published. */
  secret(): string {
    return Deno.readTextFileSync(`${this.secretsDir}/127.0.0.1_${this.port}`)
      .split("\n", 1)[0]!.trim();
  }

  async #start(options: ClusterOptions): Promise<void> {
    const env = { ...Deno.env.toObject(), RAIN_SECRETS_DIR: this.secretsDir };
    delete (env as Record<string, string | undefined>).RAIN_SECRET;
    const path = (name: string) => `${this.workspace}/${name}`;
    this.#serverEnv = { ...env, ...options.serverEnv };
    await this.#startServer();
    const config = options.governorConfig !== undefined ? path("governor.toml") : undefined;
    if (config) await Deno.writeTextFile(config, options.governorConfig!);
    const waiting: [Process, string][] = [];
    (options.governors ?? [2]).forEach((cpus, i) => {
      const process = new Process(
        `governor-${i}`,
        [
          "governor",
          this.address,
          "--cpus",
          String(cpus),
          "--listen",
          "127.0.0.1:0",
          "--workdir",
          path(`governor-${i}-work`),
          "--logdir",
          path(`governor-${i}-logs`),
          "--ready-file",
          path(`governor-${i}.ready`),
          ...(config ? ["--config", config] : []),
        ],
        path(`governor-${i}.out`),
        { ...env, ...options.governorEnv },
      );
      this.processes.push(process);
      waiting.push([process, path(`governor-${i}.ready`)]);
    });
    await this.#waitReady(waiting);
  }

  #serverEnv: Record<string, string> = {};
  #serverStarts = 0;

  async #startServer(): Promise<void> {
    const path = (name: string) => `${this.workspace}/${name}`;
    const ready = path("server.ready");
    await Deno.remove(ready).catch(() => {});
    const server = new Process(
      "server",
      [
        "server",
        "--listen",
        this.address,
        "--http-listen",
        `127.0.0.1:${this.httpPort}`,
        "--logdir",
        path("server-logs"),
        "--ready-file",
        ready,
      ],
      path(`server${this.#serverStarts++ === 0 ? "" : `-${this.#serverStarts}`}.out`),
      this.#serverEnv,
    );
    this.processes.push(server);
    await this.#waitReady([[server, ready]]);
  }

  /** SIGKILL of the server, then a server started again over its log dir and address. */
  async crashAndRestartServer(): Promise<void> {
    const server = this.processes.find((p) => p.name === "server" && !p.exited)!;
    server.child.kill("SIGKILL");
    await server.status;
    await this.#startServer();
  }

  async #waitReady(waiting: [Process, string][]): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const pending = waiting.filter(([, file]) => !exists(file));
      if (pending.length === 0) return;
      const dead = pending.filter(([p]) => p.exited);
      if (dead.length || Date.now() > deadline) {
        throw new Error(
          `Rain cluster failed to start (${dead.length ? "exited" : "not ready in time"}):\n` +
            this.logs(),
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A new client of this cluster (closed when the cluster stops). */
  async client(): Promise<Client> {
    const client = await Client.connect(this.address, {
      secret: this.secret(),
    });
    this.#clients.push(client);
    return client;
  }

  /** The tail of every process's output. */
  logs(): string {
    return this.processes.map((p) => p.describe()).join("\n");
  }

  /** Closes the clients, stops every process, removes the workspace. */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) {
      await client.close().catch(() => {});
    }
    for (const process of [...this.processes].reverse()) await process.stop();
    await Deno.chmod(this.workspace, 0o700).catch(() => {});
    await removeTree(this.workspace);
  }

  /** `await using cluster = …` stops it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Removes a tree, making read-only directories (stored objects) writable first. */
export async function removeTree(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
    return;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
  }
  const makeWritable = async (dir: string) => {
    await Deno.chmod(dir, 0o700).catch(() => {});
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await makeWritable(`${dir}/${entry.name}`);
    }
  };
  await makeWritable(path).catch(() => {});
  await Deno.remove(path, { recursive: true });
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "rain-ts-" });
  try {
    return await fn(dir);
  } finally {
    await removeTree(dir);
  }
}
