/** `nas export <candidate dir>`: rewrites model.onnx from the saved tfjs weights. */
import type { Command } from 'commander';
import { reexportCandidate } from '../space/candidate-files.js';
import { selectBackend } from '../train/backend.js';
import { action } from './errors.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('rewrite a candidate directory\'s model.onnx from its genome.json and tfjs weights')
    .argument('<dir>', 'candidate directory (genome.json, model.json, weights.bin)')
    .action(
      action(async (dir: string) => {
        await selectBackend(program.opts().backend);
        console.log(`wrote ${await reexportCandidate(dir)}`);
      }),
    );
}
