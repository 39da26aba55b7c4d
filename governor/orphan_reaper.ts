/**
 * Kills the governor's programs when the governor dies without stopping them (SIGKILL, crash).
 *
 * A small `/bin/sh` process is started beside the governor and blocks reading a pipe from it.
 * When the governor stops normally it writes `bye` and the reaper just exits (the governor has
 * killed its programs itself). When the pipe closes without `bye`, the governor is gone: the
 * reaper kills every process tagged by it (`tagged_processes.ts`), then exits. It ignores
 * SIGINT/SIGTERM/SIGHUP so that a signal sent to the governor's whole process group does not
 * take it down before it could act.
 */
import { Logger } from "../common/log.ts";
import { errorMessage } from "./fs_util.ts";
import { PROCESS_TAG_ENV, TAG_PREFIX } from "./tagged_processes.ts";

const log = new Logger("governor.reaper");

const SCRIPT = `
trap '' INT TERM HUP
read -r line
[ "$line" = bye ] && exit 0
pass=0
while [ $pass -lt 8 ]; do
  found=
  for f in /proc/[0-9]*/environ; do
    if grep -qzF -- "$1" "$f" 2>/dev/null; then
      p=\${f#/proc/}
      kill -9 "\${p%/environ}" 2>/dev/null && found=1
    fi
  done
  [ -n "$found" ] || break
  pass=$((pass + 1))
done
`;

export class OrphanReaper {
  #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
  }

  /** Starts the reaper; undefined (and a warning) if it cannot be started. */
  static start(): OrphanReaper | undefined {
    try {
      const child = new Deno.Command("/bin/sh", {
        args: ["-c", SCRIPT, "rain-orphan-reaper", `${PROCESS_TAG_ENV}=${TAG_PREFIX}`],
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      child.unref();
      return new OrphanReaper(child);
    } catch (e) {
      log.warn(`cannot start the orphan reaper: ${errorMessage(e)}`);
      return undefined;
    }
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** The governor stops normally: lets the reaper exit without scanning. */
  async stop(): Promise<void> {
    try {
      const writer = this.#child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("bye\n"));
      await writer.close();
    } catch {
      // already gone
    }
    this.#child.ref(); // unref'ed so as not to keep the governor alive; now wait for it
    await this.#child.status;
  }
}
