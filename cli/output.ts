/**
 * How a command talks, so scripts can rely on it: with `--json`, stdout holds
 * one JSON document and nothing else; with `--quiet`, stderr holds no
 * progress and no chatter (errors still go there). Without either, result
 * lines go to stdout and progress to stderr, as before.
 */
import type { Command } from 'commander';

/** The two flags every scriptable command takes. */
export interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
}

export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** A result line for people: stdout, unless stdout is the JSON document's. */
  say(line: string): void;
  /** Chatter and progress lines: stderr, unless quiet. */
  note(line: string): void;
  /** The JSON document, under --json (otherwise nothing). */
  emit(document: unknown): void;
}

/** Adds `--json` and `--quiet` to a command. */
export function outputOptions(command: Command): Command {
  return command
    .option('--json', 'print one JSON document on stdout (and nothing else there)')
    .option('--quiet', 'no progress and no chatter on stderr (errors still)');
}

export function outputOf(flags: OutputFlags): Output {
  const json = flags.json === true;
  const quiet = flags.quiet === true;
  return {
    json,
    quiet,
    say: (line) => {
      if (!json) console.log(line);
    },
    note: (line) => {
      if (!quiet) console.error(line);
    },
    emit: (document) => {
      if (json) process.stdout.write(JSON.stringify(document, null, 2) + '\n');
    },
  };
}
