/**
 * The two candidate evaluators. `RealEvaluator` measures the untrained ONNX
 * model with the latency harness and trains through a {@link CandidateTrainer}:
 * `LocalTrainer`, a pool of worker threads here (one candidate per thread),
 * or the queue's (queue-evaluator.ts). `ProxyEvaluator` stands in analytic
 * functions of the genome for both, for tests and for comparing search
 * algorithms cheaply.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { LatencyPool } from '../benchmarks/pool.js';
import { LatencyPredictor } from '../benchmarks/predictor.js';
import { localTarget, remoteTarget } from '../benchmarks/predictor-build.js';
import { checkPredictor, loadPredictor, predictInterval, spaceFingerprint, type PredictorFile } from '../benchmarks/predictor-file.js';
import { measureRemote } from '../benchmarks/remote.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { randomWeights } from '../space/random-weights.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import type { BackendName } from '../train/backend.js';
import { writeCandidateFiles, type TrainingJob, type TrainingJobResult } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import { candidateSeed } from './candidate-seed.js';
import type { SearchConfig } from './config.js';
import type { PredictedLatency } from './latency-decision.js';
import type { CandidateEvaluator, CandidateTrainer, LatencyFigures, TrainingOutcome } from './types.js';

/** What every candidate's training job shares within a run. */
export interface TrainingContext {
  space: MobileNetSpace;
  config: SearchConfig;
  teacherKey: string | null;
  /** datasetContentHash of the run's data. */
  dataContentHash: string;
  /** The global `nas --backend`. @default 'auto' */
  backend?: BackendName | 'auto';
}

/** The training job of one candidate: data only, the same locally and on the queue. */
export function trainingJobFor(ctx: TrainingContext, genome: Genome, id: string): TrainingJob {
  const c = ctx.config;
  const t = c.training;
  return {
    space: ctx.space.config,
    genome,
    data: { name: c.data, contentHash: ctx.dataContentHash, validationFraction: c.validationFraction, seed: c.seed, ...(t.subset ? { subset: t.subset } : {}) },
    teacherKey: ctx.teacherKey,
    options: {
      budget: t.images !== undefined ? { images: t.images } : { epochs: t.epochs ?? 1 },
      batchSize: t.batchSize,
      optimizer: t.optimizer,
      ...(t.learningRate !== undefined ? { learningRate: t.learningRate } : {}),
      distillation: { temperature: t.temperature, alpha: ctx.teacherKey ? t.alpha : 0 },
      augment: t.augment,
      seed: candidateSeed(c.seed, id),
    },
    backend: ctx.backend ?? 'auto',
  };
}

/** The outcome the journal keeps, once the candidate's files are written under `<runDir>/candidates/<id>/`. */
export function keepTrainingResult(runDir: string, id: string, result: TrainingJobResult): TrainingOutcome {
  if (result.id !== id) throw new Error(`training returned candidate ${result.id} for ${id}`);
  writeCandidateFiles(join(runDir, 'candidates', id), result.files);
  return { accuracy: result.accuracy, trainSeconds: result.trainSeconds, imagesPerSecond: result.imagesPerSecond, lossCurve: result.lossCurve };
}

export interface LocalTrainerOptions extends TrainingContext {
  runDir: string;
  /** Training worker entry; tests substitute one. @default the built train/train-worker.js */
  trainWorkerFile?: string;
}

/** Trains in a pool of threads on this machine: `config.workers` at once. */
export class LocalTrainer implements CandidateTrainer {
  readonly #pool: TrainingPool;

  constructor(private readonly o: LocalTrainerOptions) {
    this.#pool = new TrainingPool({ threads: o.config.workers, workerFile: o.trainWorkerFile });
  }

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainingOutcome> {
    const task = { job: trainingJobFor(this.o, genome, id), dataSpec: this.o.config.data };
    const result = await this.#pool.run(task, signal, this.o.config.training.timeLimit);
    return keepTrainingResult(this.o.runDir, id, result);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

export interface RealEvaluatorOptions {
  space: MobileNetSpace;
  config: SearchConfig;
  runDir: string;
  trainer: CandidateTrainer;
  /** Latency override (tests: analytic latency, so that runs compare exactly while training is real). */
  measureLatency?: CandidateEvaluator['latency'];
}

export class RealEvaluator implements CandidateEvaluator {
  readonly #latencyPool = new LatencyPool();
  readonly #predictor: LatencyPredictor | null;
  readonly #tablePath: string;
  /** The calibrated predictor (latency.predictor), checked against the target before first use. */
  readonly #calibrated: PredictorFile | null;
  #calibratedChecked = false;

  constructor(private readonly o: RealEvaluatorOptions) {
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
    if (this.o.measureLatency) return this.o.measureLatency(genome, id);
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

  train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainingOutcome> {
    return this.o.trainer.train(genome, id, signal);
  }

  async close(finished?: boolean): Promise<void> {
    await Promise.all([this.#latencyPool.close(), this.o.trainer.close(finished)]);
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

  async train(genome: Genome, id: string, signal: AbortSignal): Promise<TrainingOutcome> {
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
