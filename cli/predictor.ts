/** `nas predictor build`: a calibrated latency predictor for this machine or a bench agent's target. */
import type { Command } from 'commander';
import { LatencyPool } from '../benchmarks/pool.js';
import { DEFAULT_BUILD_BUDGET_SECONDS, DEFAULT_CALIBRATION_GENOMES, ensurePredictor, localTarget, remoteTarget } from '../benchmarks/predictor-build.js';
import { PREDICTOR_PRECISIONS, type PredictorPrecision } from '../benchmarks/predictor-file.js';
import { PREDICTOR_DATA_SHAPES } from '../benchmarks/predictor-spaces.js';
import { NAMED_SPACES, type SpaceName } from '../space/defaults.js';
import { MobileNetSpace } from '../space/space.js';
import { action, positiveInt, UsageError } from './errors.js';
import { progressBar } from './progress.js';

interface PredictorFlags {
  space: string;
  precision: string;
  agent?: string;
  budgetSeconds: number;
  genomes: number;
  threads: number;
  channels?: number;
  classes?: number;
  out?: string;
  rebuild?: boolean;
}

export function registerPredictor(program: Command): void {
  const predictor = program.command('predictor').description('calibrated latency predictors (see docs/bench/predictor.md)');
  predictor
    .command('build')
    .description('measure sampled whole networks on the target and fit a latency predictor with a prediction interval; reuses --out when it was built for the same target')
    .option('--space <name>', `${Object.keys(NAMED_SPACES).join(' or ')}`, 'small')
    .option('--precision <p>', `${PREDICTOR_PRECISIONS.join(' or ')} (int8: models as nas quantize makes them)`, 'fp32')
    .option('--agent <url>', 'measure on a bench agent (token from NAS_AGENT_TOKEN)')
    .option('--budget-seconds <n>', 'stop measuring after this many seconds, keeping what was measured', positiveInt('--budget-seconds'), DEFAULT_BUILD_BUDGET_SECONDS)
    .option('--genomes <n>', 'whole networks measured for the fit', positiveInt('--genomes'), DEFAULT_CALIBRATION_GENOMES)
    .option('--threads <n>', 'intra-op threads, as the search measures with (latency.threads)', positiveInt('--threads'), 1)
    .option('--channels <n>', 'input channels of the data (default: 1 for small, 3 for mobilenet-224)', positiveInt('--channels'))
    .option('--classes <n>', 'classes of the data (default: 10 for small, 1000 for mobilenet-224)', positiveInt('--classes'))
    .option('--out <file>', 'predictor file (default latency-predictor-<space>-<precision>.json)')
    .option('--rebuild', 'build anew even if --out exists (also when it was built for another target)')
    .action(
      action(async (o: PredictorFlags) => {
        if (!(o.space in NAMED_SPACES)) throw new UsageError(`--space must be ${Object.keys(NAMED_SPACES).join(' or ')}, got '${o.space}'`);
        if (!PREDICTOR_PRECISIONS.includes(o.precision as PredictorPrecision)) throw new UsageError(`--precision must be ${PREDICTOR_PRECISIONS.join(' or ')}, got '${o.precision}'`);
        if (o.agent && !process.env.NAS_AGENT_TOKEN) throw new UsageError(`--agent ${o.agent}: set NAS_AGENT_TOKEN to its token`);
        const name = o.space as SpaceName;
        const defaults = PREDICTOR_DATA_SHAPES[name];
        const space = new MobileNetSpace(NAMED_SPACES[name], { inputChannels: o.channels ?? defaults.inputChannels, numClasses: o.classes ?? defaults.numClasses });
        const out = o.out ?? `latency-predictor-${name}-${o.precision}.json`;
        const pool = o.agent ? null : new LatencyPool();
        const target = pool ? localTarget(pool) : remoteTarget({ url: o.agent!, token: process.env.NAS_AGENT_TOKEN! });
        const bar = progressBar('calibration', { format: 'calibration {bar} {value}/{total} genomes | eta {eta_formatted}' });
        try {
          const r = await ensurePredictor(out, space, target, {
            precision: o.precision as PredictorPrecision,
            genomes: o.genomes,
            budgetSeconds: o.budgetSeconds,
            threads: o.threads,
            spaceLabel: name,
            rebuild: o.rebuild,
            onProgress: (done, total, id) => bar.update(done, total, {}, id),
          });
          bar.stop();
          const f = r.file;
          console.log(`${r.state === 'reused' ? 'reused' : 'wrote'} ${out}: ${f.space.label}/${f.precision} on ${f.environment.cpuModel}, onnxruntime ${f.environment.onnxruntime}, ${f.environment.threads} thread(s)`);
          console.log(
            `calibration: ${f.calibration.genomes.length} genomes in ${f.calibration.buildSeconds.toFixed(0)} s; leave-one-out MAPE ${f.calibration.leaveOneOutMape.toFixed(1)}%; ` +
              `${Math.round(f.interval.coverage * 100)}% interval ±${(100 * f.interval.halfWidth).toFixed(1)}%`,
          );
          console.log(`use it in a search config: "latency": { "predictor": "${out}" }`);
        } finally {
          bar.stop();
          await pool?.close();
        }
      }),
    );
}
