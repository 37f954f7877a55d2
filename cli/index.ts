#!/usr/bin/env node
/** The `nas` command: wiring only; each command lives in its own file. */
import { Command, CommanderError } from 'commander';
import { BACKENDS } from '../train/backend.js';
import { EXIT_CODES, reportError } from './errors.js';
import { registerBench } from './bench.js';
import { registerCompress } from './compress.js';
import { registerExport } from './export.js';
import { registerFinalize } from './finalize.js';
import { registerSearch } from './search.js';
import { registerSpace } from './space.js';
import { registerTeacher } from './teacher.js';

/** Builds the program; exported so tests can parse flags without running anything. */
export function buildProgram(): Command {
  const program = new Command('nas')
    .description('Hardware-aware neural architecture search for small image classifiers')
    .version('0.1.0')
    .option('--backend <name>', `tfjs training backend: auto or one of ${BACKENDS.join(', ')}`, 'auto')
    .showHelpAfterError()
    // Subcommands inherit these only if set before they are added.
    .exitOverride();
  registerSearch(program);
  registerSpace(program);
  registerExport(program);
  registerTeacher(program);
  registerBench(program);
  registerFinalize(program);
  registerCompress(program);
  return program;
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_CODES.E_USAGE;
    } else {
      reportError(error);
    }
  }
}
