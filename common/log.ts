/**
 * Minimal line logger to stderr: `<time> <LEVEL> <component>: message`.
 * Processes started by `rain start` have stderr redirected into their log directory.
 */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: Level = (Deno.env.get("RAIN_LOG_LEVEL") as Level | undefined) ?? "info";
if (!(threshold in ORDER)) threshold = "info";

export function setLogLevel(level: Level): void {
  threshold = level;
}

export class Logger {
  constructor(readonly component: string) {}

  #write(level: Level, message: string): void {
    if (ORDER[level] < ORDER[threshold]) return;
    const line = `${
      new Date().toISOString()
    } ${level.toUpperCase()} ${this.component}: ${message}\n`;
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(line));
    } catch {
      // stderr gone (parent died): nothing useful left to do with a log line
    }
  }

  debug(message: string): void {
    this.#write("debug", message);
  }
  info(message: string): void {
    this.#write("info", message);
  }
  warn(message: string): void {
    this.#write("warn", message);
  }
  error(message: string): void {
    this.#write("error", message);
  }
}
