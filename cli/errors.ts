/** Errors of the command line: a `UsageError` ends the program with one line on stderr and exit 2. */

export class UsageError extends Error {
  /**
   * @param message what is wrong, without the `rain:` prefix
   * @param command the subcommand whose `--help` explains it (`undefined` for `rain --help`)
   */
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The one line printed for a usage error: `rain: <what is wrong> (see 'rain <cmd> --help')`. */
export function usageLine(error: UsageError): string {
  const help = error.command === undefined ? "rain --help" : `rain ${error.command} --help`;
  return `rain: ${error.message} (see '${help}')`;
}

/** Exit codes of `rain`. */
export const EXIT_OK = 0;
/** A command ran and failed (a process died during start, no server answered, …). */
export const EXIT_FAILURE = 1;
/** The command line or the environment is wrong; nothing was done. */
export const EXIT_USAGE = 2;
