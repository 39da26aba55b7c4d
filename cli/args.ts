/**
 * Option parsing shared by every subcommand, on top of `node:util` `parseArgs` (non-strict, with
 * tokens) so that every error is reported as a one-line `UsageError` written by us.
 *
 * Accepted forms: `--flag=value`, `--flag value`, `-S` (declared short flags), `--` ends options.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export interface OptionSpec {
  type: "string" | "boolean";
  /** One-letter alias, e.g. `S` for `-S`. */
  short?: string;
  /** `--cpus -1`: allow a separate value that starts with `-`. */
  dashValue?: boolean;
}

export interface ParsedArgs {
  /** Values by long option name; absent options are absent. */
  values: Map<string, string | true>;
  positionals: string[];
  /** `-h` / `--help` was given (everything else is then ignored). */
  help: boolean;
}

/** Parses `argv` (the arguments after the subcommand name) for `rain <command>`. */
export function parseCommandArgs(
  command: string,
  argv: string[],
  spec: Record<string, OptionSpec>,
): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, s] of Object.entries(spec)) {
    options[name] = s.short ? { type: s.type, short: s.short } : { type: s.type };
  }
  const { tokens } = parseArgs({
    args: argv,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, string | true>();
  const positionals: string[] = [];
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) {
    return { values, positionals, help: true };
  }
  for (const token of tokens) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const s = spec[token.name];
    const raw = token.rawName;
    // `--S` for a flag that only exists as `-S` is as unknown as any other option.
    const spelledRight = s !== undefined &&
      (raw.startsWith("--") ? s.short === undefined || token.name.length > 1 : true);
    if (!spelledRight) {
      throw new UsageError(`unknown option '${raw}' for 'rain ${command}'`, command);
    }
    if (values.has(token.name)) {
      throw new UsageError(`option ${raw} is given more than once`, command);
    }
    if (s.type === "boolean") {
      if (token.inlineValue) {
        throw new UsageError(`option ${raw} takes no value`, command);
      }
      values.set(token.name, true);
      continue;
    }
    const value = token.value;
    if (value === undefined) {
      throw new UsageError(`option ${raw} needs a value`, command);
    }
    if (!token.inlineValue && value.startsWith("-") && value !== "-" && !s.dashValue) {
      throw new UsageError(`option ${raw} needs a value (got '${value}')`, command);
    }
    values.set(token.name, value);
  }
  return { values, positionals, help: false };
}

/** The value of a string option (parseCommandArgs guarantees strings for string options). */
export function stringValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.values.get(name);
  return typeof v === "string" ? v : undefined;
}
