/**
 * `npm run bench:schedule`: test accuracy against schedule length, each
 * length a complete schedule of finalize's recipe (bench/schedule-lengths.ts).
 * Prints the table and writes OUT/schedule.csv row by row; rerun the same
 * command to resume after a kill.
 *
 * usage: npm run bench:schedule -- --run DIR --models ID1,ID2,mobilenetv2-x0.35
 *        [--epochs 5,10,20,30] [--workers 2] [--subset N] [--out DIR]
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../locations.js';
import { atLeast } from './flags.js';
import { measureSchedule, scheduleTable } from './schedule-lengths.js';

const program = new Command('bench-schedule')
  .requiredOption('--run <dir>', "a finished search's run directory: the front members' files, the data and its split, the teacher")
  .requiredOption('--models <id|baseline,…>', 'front member ids of the run and baseline names (e.g. mobilenetv2-x0.35)', (v: string) => v.split(','))
  .option('--epochs <e,…>', 'schedule lengths, each a complete schedule', (v: string) => v.split(',').map(atLeast(1)), [5, 10, 20, 30])
  .option('--workers <n>', 'models trained at once', atLeast(1), 2)
  .option('--subset <n>', 'train on a seeded subset of this many training images (a quick trial)', atLeast(1))
  .option('--out <dir>', 'where schedule.csv and the finalizations go', join(packageRoot(), 'results', 'bench'))
  .parse();
const o = program.opts<{ run: string; models: string[]; epochs: number[]; workers: number; subset?: number; out: string }>();
const cpu = cpus()[0]?.model?.trim() || 'unknown CPU';
const rows = await measureSchedule({ runDir: o.run, models: o.models, epochs: o.epochs, workers: o.workers, subset: o.subset, out: o.out, cpu, log: (line) => console.error(line) });
console.log(`test accuracy (${cpu}, ${cpus().length} cores; finalize's recipe at each length):`);
for (const line of scheduleTable(rows, o.epochs, o.models)) console.log(line);
console.error(`wrote ${join(o.out, 'schedule.csv')}`);
