/**
 * The two candidate evaluators. `RealEvaluator` measures the untrained ONNX
 * model with the latency harness and trains through a {@link CandidateTrainer}:
 * `LocalTrainer`, a pool of worker threads here (one candidate per thread),
 * or the queue's (queue-evaluator.ts). `ProxyEvaluator` stands in analytic
 * functions of the genome for both, for tests and for comparing search
 * algorithms cheaply.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatencyPool } from '../benchmarks/pool.js';
import { LatencyPredictor } from '../benchmarks/predictor.js';
import { localTarget, remoteTarget } from '../benchmarks/predictor-build.js';
import { checkPredictor, loadPredictor, predictInterval, spaceFingerprint, type PredictorFile } from '../benchmarks/predictor-file.js';
import { compareRemote, measureRemote } from '../benchmarks/remote.js';
import { deployedLatency, randomCalibrationBatch } from '../benchmarks/deployed-latency.js';
import type { CompareModels } from '../benchmarks/int8-variants.js';
import { buildOnnxModel } from '../space/build-onnx.js';
import { randomWeights } from '../space/random-weights.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome } from '../space/types.js';
import type { BackendName } from '../train/backend.js';
import { CHECKPOINT_FILE } from '../train/checkpoint.js';
import { writeCandidateFiles, type TrainingJob, type TrainingJobResult } from '../train/training-job.js';
import { TrainingPool } from '../train/training-pool.js';
import { candidateSeed, sharedDataSeed } from '../train/candidate-seed.js';
import type { SearchConfig } from './config.js';
import type { PredictedLatency } from './latency-decision.js';
import type { CandidateEvaluator, CandidateTrainer, LatencyFigures, RungBudget, TrainingOutcome } from './types.js';

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

/**
 * The training job of one candidate: data only, the same locally and on the queue.
 * With `rung` (a multi-fidelity search) it trains to that rung's images, on from
 * `continueFrom` (the previous rung's checkpoint file) above rung 0, and keeps its
 * checkpoint for the next rung unless it is the top one.
 */
export function trainingJobFor(ctx: TrainingContext, genome: Genome, id: string, rung?: RungBudget, continueFrom?: Uint8Array): TrainingJob {
  const c = ctx.config;
  const t = c.training;
  if (rung && rung.rung > 0 && !continueFrom) throw new Error(`candidate ${id}: rung ${rung.rung} needs the checkpoint of rung ${rung.rung - 1}`);
  const keepCheckpoint = rung !== undefined && rung.rung < (c.fidelity?.rungs ?? 1) - 1;
  return {
    space: ctx.space.config,
    genome,
    data: { name: c.data, contentHash: ctx.dataContentHash, validationFraction: c.validationFraction, seed: c.seed, ...(t.subset ? { subset: t.subset } : {}), ...(t.validateOutsideSubset ? { outsideSubset: t.validateOutsideSubset } : {}) },
    teacherKey: ctx.teacherKey,
    options: {
      budget: rung && rung.rung > 0 ? { images: rung.images } : t.images !== undefined ? { images: t.images } : { epochs: t.epochs ?? 1 },
      batchSize: t.batchSize,
      optimizer: t.optimizer,
      ...(t.learningRate !== undefined ? { learningRate: t.learningRate } : {}),
      distillation: { temperature: t.temperature, alpha: ctx.teacherKey ? t.alpha : 0 },
      augment: t.augment,
      seed: candidateSeed(c.seed, id),
      ...(t.sharedDataOrder ? { dataSeed: sharedDataSeed(c.seed) } : {}),
      ...(keepCheckpoint ? { keepCheckpoint } : {}),
    },
    ...(rung && rung.rung > 0 ? { continueFrom: Buffer.from(continueFrom!).toString('base64') } : {}),
    backend: ctx.backend ?? 'auto',
  };
}

/** The checkpoint a candidate's previous rung left in its directory (what a promotion trains on from). */
export function previousRungCheckpoint(runDir: string, id: string, rung: RungBudget | undefined): Uint8Array | undefined {
  if (!rung || rung.rung === 0) return undefined;
  const file = join(runDir, 'candidates', id, CHECKPOINT_FILE);
  if (!existsSync(file)) throw new Error(`${file}: not found; rung ${rung.rung} of candidate ${id} trains on from it`);
  return readFileSync(file);
}

/** The outcome the journal keeps, once the candidate's files (where the result has them) are written under `<runDir>/candidates/<id>/`. */
export function keepTrainingResult(runDir: string, id: string, result: Omit<TrainingJobResult, 'files'> & { files: TrainingJobResult['files'] | null }): TrainingOutcome {
  if (result.id !== id) throw new Error(`training returned candidate ${result.id} for ${id}`);
  if (result.files) writeCandidateFiles(join(runDir, 'candidates', id), result.files);
  return { accuracy: result.accuracy, ...(result.logLikelihood !== undefined ? { logLikelihood: result.logLikelihood } : {}), trainSeconds: result.trainSeconds, imagesPerSecond: result.imagesPerSecond, lossCurve: result.lossCurve };
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

  async train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome> {
    const task = { job: trainingJobFor(this.o, genome, id, rung, previousRungCheckpoint(this.o.runDir, id, rung)), dataSpec: this.o.config.data };
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
    // The lookup table measures every op it lacks in prepare(); with latency.source "predicted" nothing it could reject is measured.
    const tableUsed = o.config.latency.predictorSlack && o.config.latency.precision === 'fp32' && o.config.latency.source !== 'predicted';
    this.#predictor = tableUsed ? LatencyPredictor.load(this.#tablePath) : null;
    this.#calibrated = o.config.latency.predictor ? loadPredictor(o.config.latency.predictor) : null;
  }

  async prepare(genomes: Genome[]): Promise<void> {
    if (this.#calibrated && !this.#calibratedChecked) {
      const { agent, threads } = this.o.config.latency;
      const target = agent ? remoteTarget({ url: agent, token: process.env.NAS_AGENT_TOKEN ?? '' }) : localTarget(this.#latencyPool);
      checkPredictor(this.o.config.latency.predictor!, this.#calibrated, {
        environment: await target.environment(threads),
        spaceFingerprint: spaceFingerprint(this.o.space.config, this.o.space.data),
        space: { config: this.o.space.config, data: this.o.space.data },
        // resolveSearchConfig refuses a predictor under `best`.
        precision: this.o.config.latency.precision === 'int8' ? 'int8' : 'fp32',
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
    const agent = latency.agent ? { url: latency.agent, token: process.env.NAS_AGENT_TOKEN ?? '' } : null;
    if (latency.precision !== 'fp32') {
      const compare: CompareModels = agent ? (models, o) => compareRemote(agent, models, o) : (models, o) => this.#latencyPool.compare(models, o);
      const d = await deployedLatency(bytes, id, latency.precision, { compare, time: latency.time, threads: latency.threads, calibration: [randomCalibrationBatch(plan, id)] });
      return { p50: d.p50, p90: d.p90, source: 'measured', precision: d.precision, ...(d.int8Variant ? { int8Variant: d.int8Variant } : {}), fp32P50: d.fp32P50 };
    }
    const m = agent ? await measureRemote(agent, bytes, id, options) : await this.#latencyPool.measure(bytes, id, options);
    if (m.state === 'errored') throw new Error(m.error.message);
    return { p50: m.stats.p50, p90: m.stats.p90, source: 'measured' };
  }

  train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome> {
    return this.o.trainer.train(genome, id, signal, rung);
  }

  async writeFiles(candidates: ReadonlyArray<{ genome: Genome; id: string }>): Promise<void> {
    await this.o.trainer.writeFiles?.(candidates);
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
 * The proxy's learning curve, fitted to real training (docs/bench/fidelity.md,
 * "Full scale, no teacher": `npm run bench:fidelity -- --teacher-epochs 0 --workers 2`,
 * 16 genomes of the small space, full Fashion-MNIST, 1 epoch on 8,000 images
 * then 24,000 and 80,000 images from scratch; fidelity.json `proxyCurve`).
 * The analytic formula is a genome's accuracy after `referenceRatio`·b₀
 * images (b₀ its first training); after b images it is
 *   acc(b) = acc_ref − G_g·((b/b₀)^(−k) − referenceRatio^(−k)) + σ·(b/b₀)^(−k)·(u_b − ½)
 * so that acc(b) − acc(b₀) = G_g·(1 − (b/b₀)^(−k)), the form fitted, with
 *   G_g = gainMax·(1 − e^(−params/gainParams)) + gainSpread·√12·(u_g − ½),
 * a gain that grows with size plus a genome's own part (id-seeded uniform
 * u_g with the fitted standard deviation): the part a first training cannot
 * see, which is why it misranks. u_b is id-seeded uniform noise per budget.
 * The fit saw genomes of 124,000–622,000 parameters: gainParams is loosely
 * determined (every genome measured has most of gainMax to gain).
 */
export const PROXY_LEARNING_CURVE = {
  /** The analytic formula is the accuracy after this many first budgets (the bench's reference: 80,000 images against 8,000). */
  referenceRatio: 10,
  /** Mean validation accuracy of bench:fidelity's 16 genomes at the reference (89.9%): the centre a referenceSpread below 1 shrinks towards. */
  referenceMean: 0.899,
  /** Most accuracy a model gains from training far beyond its first budget (fitted: 29.1 points). */
  gainMax: 0.291,
  /** Parameters at which a model has ~63% of gainMax to gain (fitted). */
  gainParams: 43_612,
  /** Standard deviation of a genome's gain that its size does not explain (fitted: 2.15 points). */
  gainSpread: 0.0215,
  /** Exponent of the power law in the budget ratio (fitted: 0.233). */
  k: 0.233,
  /** Width of the uniform noise at the first budget: sd 0.46 points, the fit's rmse. */
  noise: 0.016,
} as const;

/** How a {@link ProxyEvaluator} reads its learning curve. */
export interface ProxyEvaluatorOptions {
  /** Milliseconds each training waits (to exercise timeouts and scheduling). @default 0 */
  delayMs?: number;
  /** b₀ of the learning curve: a first training's images (the analytic formula is the accuracy at referenceRatio·b₀). @default 1 */
  baseImages?: number;
  /** Images of a candidate's first training in this run (rung 0, or every training without fidelity). @default baseImages */
  firstImages?: number;
  /**
   * Scale of the differences between genomes' reference accuracies, around
   * {@link PROXY_LEARNING_CURVE}.referenceMean. 1 keeps the analytic
   * formula's (sd ≈ 2.5 points over bench:fidelity's 16 genomes); the 80,000
   * images measured there spread 0.54 points, about {@link MEASURED_REFERENCE_SPREAD}
   * of it, which leaves the curve's per-genome gains to misrank as measured.
   * @default 1
   */
  referenceSpread?: number;
}

/** The referenceSpread at which the proxy's genomes differ at the reference budget as much as bench:fidelity measured (sd 0.54 points over its 16 genomes, noise included). */
export const MEASURED_REFERENCE_SPREAD = 0.16;

/**
 * Analytic stand-ins: latency grows with MACs and depth; accuracy saturates
 * with capacity and resolution (the accuracy after referenceRatio first
 * budgets), with a little id-seeded noise, and falls or rises with the
 * images trained along {@link PROXY_LEARNING_CURVE}. Cheap and
 * deterministic, so search behaviour can be tested and compared exactly.
 */
export class ProxyEvaluator implements CandidateEvaluator {
  readonly #delayMs: number;
  readonly #baseImages: number;
  readonly #firstImages: number;
  readonly #referenceSpread: number;

  constructor(
    private readonly space: MobileNetSpace,
    options: ProxyEvaluatorOptions = {},
  ) {
    this.#delayMs = options.delayMs ?? 0;
    this.#baseImages = options.baseImages ?? 1;
    this.#firstImages = options.firstImages ?? this.#baseImages;
    this.#referenceSpread = options.referenceSpread ?? 1;
  }

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
    return { p50, p90: p50 * 1.05, source: 'formula' };
  }

  /** Proxy accuracy after `images` images (the first budget when omitted). */
  accuracyAt(genome: Genome, id: string, images = this.#baseImages): number {
    const { params, macs } = this.space.cost(genome);
    const se = genome.stages.filter((s) => s.squeezeExcite).length;
    const analytic = 0.93 - 0.25 * Math.exp(-params / 80_000) - 0.08 * Math.exp(-macs / 3e6) + 0.004 * se + 0.01 * (genome.resolution / 32);
    const c = PROXY_LEARNING_CURVE;
    const atReference = c.referenceMean + this.#referenceSpread * (analytic - c.referenceMean);
    const ownGain = c.gainSpread * Math.sqrt(12) * (idNoise(id, 'gain') - 0.5);
    const gain = Math.max(0, c.gainMax * (1 - Math.exp(-params / c.gainParams)) + ownGain);
    const left = (images / this.#baseImages) ** -c.k;
    const u = images === this.#baseImages ? idNoise(id, 'accuracy') : idNoise(id, `accuracy@${images}`);
    return Math.min(0.99, Math.max(0, atReference - gain * (left - c.referenceRatio ** -c.k) + c.noise * left * (u - 0.5)));
  }

  async train(genome: Genome, id: string, signal: AbortSignal, rung?: RungBudget): Promise<TrainingOutcome> {
    if (this.#delayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.#delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        });
      });
    }
    const images = rung && rung.rung > 0 ? rung.images : this.#firstImages;
    return { accuracy: this.accuracyAt(genome, id, images), trainSeconds: this.#delayMs / 1000, imagesPerSecond: 0, lossCurve: [] };
  }

  async close(): Promise<void> {}
}
