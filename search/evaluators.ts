/**
 * The two candidate evaluators. `RealEvaluator` measures the untrained ONNX
 * model with the latency harness and trains in a pool of worker threads (one
 * candidate per worker). `ProxyEvaluator` stands in analytic functions of the
 * genome for both, for tests and for comparing search algorithms cheaply.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { LatencyPool } from '../benchmarks/pool.js';
import { LatencyPredictor } from '../benchmarks/predictor.js';
import { localTarget, remoteTarget } from '../benchmarks/predictor-build.js';
import { checkPredictor, loadPredictor, predictInterval, spaceFingerprint, type PredictorFile } from '../benchmarks/predictor-file.js';
import { measureRemote } from '../benchmarks/remote.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { randomWeights } from '../space/random-weights.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import { packageRoot } from '../locations.js';
import { candidateSeed } from './candidate-seed.js';
import type { SearchConfig } from './config.js';
import type { TrainTask, TrainTaskResult } from './train-worker.js';
import type { PredictedLatency } from './latency-decision.js';
import type { CandidateEvaluator, EvaluatedRecord, LatencyFigures } from './types.js';

type TrainOutcome = Pick<EvaluatedRecord, 'accuracy' | 'trainSeconds' | 'imagesPerSecond' | 'lossCurve'>;


function builtFile(name: string): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts') ? join(packageRoot(), 'dist', 'search', name) : join(here, '..', name);
  if (!existsSync(file)) throw new Error(`${file} not found: run 'npm run build' first`);
  return file;
}

export interface RealEvaluatorOptions {
  space: MobileNetSpace;
  config: SearchConfig;
  runDir: string;
  teacherKey: string | null;
  /** Training worker entry; tests substitute one. @default the built search/train-worker.js */
  trainWorkerFile?: string;
}

export class RealEvaluator implements CandidateEvaluator {
  readonly #latencyPool = new LatencyPool();
  readonly #trainPool: Piscina;
  readonly #predictor: LatencyPredictor | null;
  readonly #tablePath: string;
  /** The calibrated predictor (latency.predictor), checked against the target before first use. */
  readonly #calibrated: PredictorFile | null;
  #calibratedChecked = false;

  constructor(private readonly o: RealEvaluatorOptions) {
    this.#trainPool = new Piscina({
      filename: o.trainWorkerFile ?? builtFile('train-worker.js'),
      minThreads: o.config.workers,
      maxThreads: o.config.workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
    this.#tablePath = join(o.runDir, 'latency-table.json');
    this.#predictor = o.config.latency.predictorSlack ? LatencyPredictor.load(this.#tablePath) : null;
    this.#calibrated = o.config.latency.predictor ? loadPredictor(o.config.latency.predictor) : null;
  }

  async prepare(genomes: Genome[]): Promise<void> {
    if (this.#calibrated && !this.#calibratedChecked) {
      const { agent, threads } = this.o.config.latency;
      const target = agent ? remoteTarget({ url: agent, token: process.env.NAS_AGENT_TOKEN ?? '' }) : localTarget(this.#latencyPool);
      checkPredictor(this.o.config.latency.predictor!, this.#calibrated, {
        environment: await target.environment(threads),
        spaceFingerprint: spaceFingerprint(this.o.space.config, this.o.space.data),
        precision: 'fp32',
      });
      this.#calibratedChecked = true;
    }
    if (!this.#predictor) return;
    const added = await this.#predictor.measureMissing(genomes.map((g) => this.o.space.plan(g)), this.#latencyPool);
    if (added) this.#predictor.save(this.#tablePath);
  }

  predictLatencyInterval(genome: Genome): PredictedLatency | null {
    return this.#calibrated ? predictInterval(this.#calibrated, this.o.space.plan(genome)) : null;
  }

  predictLatency(genome: Genome): number | null {
    return this.#predictor?.predict(this.o.space.plan(genome)) ?? null;
  }

  async latency(genome: Genome, id: string): Promise<LatencyFigures> {
    const plan = this.o.space.plan(genome);
    const { latency } = this.o.config;
    const options = { iterations: latency.iterations, time: latency.time, session: { intraOpThreads: latency.threads } };
    const bytes = buildOnnxModel(plan, randomWeights(plan));
    const m = latency.agent
      ? await measureRemote({ url: latency.agent, token: process.env.NAS_AGENT_TOKEN ?? '' }, bytes, id, options)
      : await this.#latencyPool.measure(bytes, id, options);
    if (m.state === 'errored') throw new Error(m.error.message);
    return { p50: m.stats.p50, p90: m.stats.p90, source: 'measured' };
  }

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainOutcome> {
    const c = this.o.config;
    const t = c.training;
    const task: TrainTask = {
      genome,
      strides: { stem: this.o.space.config.stemStride, stages: this.o.space.config.stages.map((s) => s.stride) },
      data: { spec: c.data, validationFraction: c.validationFraction, seed: c.seed, subset: t.subset },
      teacherKey: this.o.teacherKey,
      options: {
        budget: t.images !== undefined ? { images: t.images } : { epochs: t.epochs ?? 1 },
        batchSize: t.batchSize,
        optimizer: t.optimizer,
        learningRate: t.learningRate,
        distillation: { temperature: t.temperature, alpha: this.o.teacherKey ? t.alpha : 0 },
        augment: t.augment ? undefined : false,
        seed: candidateSeed(c.seed, id),
      },
      saveDir: join(this.o.runDir, 'candidates'),
    };
    const timeout = AbortSignal.timeout(t.timeLimit * 1000);
    try {
      const r = (await this.#trainPool.run(task, { signal: AbortSignal.any([signal, timeout]) })) as TrainTaskResult;
      return { accuracy: r.accuracy, trainSeconds: r.trainSeconds, imagesPerSecond: r.imagesPerSecond, lossCurve: r.lossCurve };
    } catch (error) {
      if (timeout.aborted) throw new Error(`training passed its time limit of ${t.timeLimit} s`);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#latencyPool.close(), this.#trainPool.destroy()]);
  }
}

/** Uniform [0, 1) from a genome id: deterministic "noise". */
function idNoise(id: string, salt: string): number {
  return createHash('sha256').update(`${salt}:${id}`).digest().readUInt32LE(0) / 2 ** 32;
}

/**
 * Analytic stand-ins: latency grows with MACs and depth; accuracy saturates
 * with capacity and resolution, with a little id-seeded noise. Cheap and
 * deterministic, so search behaviour can be tested and compared exactly.
 */
export class ProxyEvaluator implements CandidateEvaluator {
  constructor(
    private readonly space: MobileNetSpace,
    private readonly delayMs = 0,
  ) {}

  #latencyMs(genome: Genome): number {
    const { macs } = this.space.cost(genome);
    const layers = genome.stages.reduce((n, s) => n + s.blocks.length, 0);
    return 0.02 + macs / 60e6 + 0.006 * layers;
  }

  predictLatency(genome: Genome): number {
    return this.#latencyMs(genome);
  }

  async latency(genome: Genome, id: string): Promise<LatencyFigures> {
    const p50 = this.#latencyMs(genome) * (1 + 0.02 * (idNoise(id, 'latency') - 0.5));
    return { p50, p90: p50 * 1.05, source: 'measured' };
  }

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainOutcome> {
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    }
    const { params, macs } = this.space.cost(genome);
    const se = genome.stages.filter((s) => s.squeezeExcite).length;
    const accuracy =
      0.93 - 0.25 * Math.exp(-params / 80_000) - 0.08 * Math.exp(-macs / 3e6) + 0.004 * se + 0.01 * (genome.resolution / 32) + 0.01 * (idNoise(id, 'accuracy') - 0.5);
    return { accuracy: Math.min(0.99, Math.max(0, accuracy)), trainSeconds: this.delayMs / 1000, imagesPerSecond: 0, lossCurve: [] };
  }

  async close(): Promise<void> {}
}
