/**
 * The `nas` command: wiring only; each command lives in its own file. This
 * module runs nothing when imported; `cli/bin.ts` (the package's `bin`) runs it.
 */
import { Command, CommanderError } from 'commander';
import { packageInfo } from '../locations.js';
import { BACKENDS } from '../train/backend.js';
import { EXIT_CODES, reportError } from './errors.js';
import { registerBench } from './bench.js';
import { registerCompress } from './compress.js';
import { registerExport } from './export.js';
import { registerFinalize } from './finalize.js';
import { registerPredictor } from './predictor.js';
import { registerSearch } from './search.js';
import { registerSpace } from './space.js';
import { registerSupernet } from './supernet.js';
import { registerTeacher } from './teacher.js';
import { registerWorker } from './worker.js';

/** Builds the program; exported so tests can parse flags without running anything. */
export function buildProgram(): Command {
  const program = new Command('nas')
    .description('Hardware-aware neural architecture search for small image classifiers')
    .version(packageInfo().version)
    .option('--backend <name>', `tfjs training backend: auto or one of ${BACKENDS.join(', ')}`, 'auto')
    .showHelpAfterError()
    // Subcommands inherit these only if set before they are added.
    .exitOverride();
  registerSearch(program);
  registerSpace(program);
  registerExport(program);
  registerTeacher(program);
  registerSupernet(program);
  registerBench(program);
  registerFinalize(program);
  registerCompress(program);
  registerPredictor(program);
  registerWorker(program);
  return program;
}

/**
 * Parses `argv` (as `process.argv`: node, script, then the arguments) and
 * runs the command; failures set `process.exitCode` by their kind (cli/errors.ts).
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    } else {
      reportError(error);
    }
  }
}
