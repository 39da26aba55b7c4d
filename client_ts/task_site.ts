/**
 * Where a task was created (the stack frames outside this package), and the server's error of a
 * failed session explained with it.
 *
 * @module
 */
import { sessionState, SITE_TASKS, taskState } from "./internal.ts";
import type { Session } from "./session.ts";
import type { Task } from "./task.ts";
import { formatId } from "./types.ts";

/** Frames of this package are left out of "where the task was created". */
const PACKAGE_URL = new URL(".", import.meta.url).href;

/** The server's error, plus where the failed task was created and its debug text. */
export function explainFailure(session: Session, message: string): string {
  const state = sessionState(session);
  let task: Task | undefined;
  for (const match of message.matchAll(/\b(\d+)\/(\d+)\b/g)) {
    if (Number(match[1]) === session.id) {
      task = state.submittedTasks.get(Number(match[2]));
      if (task) break;
    }
  }
  if (!task) return message;
  const lines = [
    message,
    "",
    `Task ${formatId(task.id)} (${task.taskType}${
      task.name ? `, name '${task.name}'` : ""
    }) was created at:`,
    formatSite(taskState(task).site),
  ];
  const debug = task.info?.debug;
  if (debug && !message.includes(debug)) lines.push("Debug:", debug);
  return lines.join("\n");
}

/** True for a stack frame in a module of this package (its tests count as user code). */
function isPackageFrame(line: string): boolean {
  const at = line.indexOf(PACKAGE_URL);
  if (at < 0) return false;
  const file = /^[\w.-]+\.ts/.exec(line.slice(at + PACKAGE_URL.length))?.[0] ??
    "";
  return !file.endsWith("_test.ts");
}

/** The stack frames of `site` outside this package: where the user created the task. */
function formatSite(site: Error | undefined): string {
  if (site === undefined) {
    return `  (not recorded: only the first ${SITE_TASKS} tasks of a session record it, every ` +
      "task with client.newSession({ recordSites: true }))";
  }
  const frames = (site.stack ?? "").split("\n").slice(1)
    .filter((line) => !isPackageFrame(line) && !line.includes("ext:"));
  return frames.length ? frames.join("\n") : "  (unknown)";
}
