/** `nas space sample`: a quick look at what a space holds. */
import type { Command } from 'commander';
import seedrandom from 'seedrandom';
import { summariseGenome } from '../space/genome.js';
import { loadSpaceConfig, MobileNetSpace } from '../space/space.js';
import { action, positiveInt } from './errors.js';

export function registerSpace(program: Command): void {
  const space = program.command('space').description('inspect a search space');
  space
    .command('sample')
    .description('print seeded sample genomes with their params and MACs')
    .option('--n <count>', 'how many genomes', positiveInt('--n'), 5)
    .option('--seed <seed>', 'random seed', '0')
    .option('--space <name|file>', "'small', 'mobilenet-224' or a JSON space file", 'small')
    .option('--classes <n>', 'number of classes', positiveInt('--classes'), 10)
    .option('--channels <n>', 'input channels', positiveInt('--channels'), 1)
    .option('--json', 'print genomes as JSON lines')
    .action(
      action((o: { n: number; seed: string; space: string; classes: number; channels: number; json?: boolean }) => {
        const { config, source } = loadSpaceConfig(o.space);
        const s = new MobileNetSpace(config, { numClasses: o.classes, inputChannels: o.channels }, source);
        const rng = seedrandom(o.seed);
        for (let i = 0; i < o.n; i++) {
          const g = s.sample(rng);
          const { params, macs } = s.cost(g);
          if (o.json) console.log(JSON.stringify({ id: s.id(g), params, macs, genome: g }));
          else console.log(`${s.id(g)}  ${String(params).padStart(8)} params  ${(macs / 1e6).toFixed(2).padStart(8)} MMACs  ${summariseGenome(g)}`);
        }
      }),
    );
}
