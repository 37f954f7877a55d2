#!/usr/bin/env node
/**
 * The package's `bin`: always runs the program. It is its own file, rather
 * than an "am I the main module?" test in cli/index.ts, because npm starts
 * it through links and shims (`node_modules/.bin/nas`, `npm install -g`,
 * `npx`, `npm link`, Windows .cmd shims) where `process.argv[1]` is not this
 * file's path, and such a test silently did nothing.
 */
import { runCli } from './index.js';

await runCli(process.argv);
