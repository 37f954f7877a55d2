/**
 * The search's run configuration: a zod schema (unknown fields rejected,
 * errors name the file and field), defaults for the quickstart, and a hash
 * that identifies a resolved configuration in results and on resume.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { NAMED_SPACES } from '../space/defaults.js';
import { DEFAULT_MUTATION_PROBABILITY } from '../space/operators.js';
import { searchSpaceSchema } from '../space/schema.js';
import { INPUT_SCALES } from '../train/input-adapter.js';
import { TEACHER_ARCHITECTURES } from '../train/teacher-types.js';
import { redisUrlProblem } from '../train/queue/redis-url.js';
import { LATENCY_PRECISIONS } from '../benchmarks/deployed-latency.js';
import { CodedError } from '../errors.js';

/** A duration: seconds, or a string like `90s`, `30m`, `8h`, `1h30m`. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$/.exec(value);
  if (!match || value.trim() === '' || (!match[1] && !match[2] && !match[3])) throw new Error(`'${value}' is not a duration (e.g. 90s, 30m, 8h)`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

const duration = z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/**
 * When a search stops: the first of these reached. Also what a journal's
 * budget record holds (search/journal.ts), when `--resume` gives a new one.
 */
export const budgetSchema = z.strictObject({
  /** Candidates trained. */
  evaluations: z.number().int().positive().optional(),
  /** Wall-clock time; no new training starts after it. */
  time: duration.optional(),
  generations: z.number().int().positive().optional(),
  /** Images trained, every rung counted: the compute of a multi-fidelity search. */
  images: z.number().int().positive().optional(),
});

/** A search's budget (every field optional; at least one is needed to start a run: {@link stoppingRuleProblem}). */
export type SearchBudget = z.output<typeof budgetSchema>;

/** Why a budget cannot stop a search (it names no limit), or null when it can. */
export function stoppingRuleProblem(budget: SearchBudget): string | null {
  const limits = ['evaluations', 'time', 'generations', 'images'] as const;
  if (limits.some((k) => budget[k] !== undefined)) return null;
  return `budget: no stopping rule, the search would run forever; give budget.${limits.join(', budget.')} (or --evaluations, --time, --generations)`;
}

/** The search configuration (config files, `runSearch`): every field, its default and its meaning. */
export const searchConfigSchema = z.strictObject({
  /** Run directory name under results/; default: a timestamp. */
  name: z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash and underscore only').optional(),
  seed: z.number().int().default(0),
  /** fashion-mnist-sample, fashion-mnist, or a path (IDX/CIFAR directory, .npz). */
  data: z.string().default('fashion-mnist-sample'),
  validationFraction: z.number().gt(0).lt(1).default(0.1),
  /** A named space or an inline space object. */
  space: z.union([z.enum(Object.keys(NAMED_SPACES) as [keyof typeof NAMED_SPACES]), searchSpaceSchema]).default('small'),
  searcher: z
    .strictObject({
      algorithm: z.enum(['nsga2', 'aging', 'random']).default('nsga2'),
      /** Genomes per generation (and NSGA-II's population). */
      population: z.number().int().min(2).default(8),
      crossoverProbability: z.number().min(0).max(1).default(0.9),
      /** Per-gene mutation probability; one gene always changes. */
      mutationProbability: z.number().min(0).max(1).default(DEFAULT_MUTATION_PROBABILITY),
      /** Aging evolution: how many of the population a parent is picked from. */
      sampleSize: z.number().int().min(1).default(4),
      /** Aging evolution: population kept (oldest leave first). */
      agingPopulation: z.number().int().min(2).default(32),
    })
    .prefault({}),
  budget: budgetSchema.prefault({}),
  /** A third objective to minimise beside accuracy and latency. */
  thirdObjective: z.enum(['params', 'macs']).optional(),
  constraints: z
    .strictObject({
      maxLatencyMs: z.number().positive().optional(),
      maxParams: z.number().int().positive().optional(),
      maxMacs: z.number().int().positive().optional(),
    })
    .prefault({}),
  training: z
    .strictObject({
      epochs: z.number().positive().optional(),
      images: z.number().int().positive().optional(),
      /** Train on this many images of the training split (seeded, the same for every candidate). */
      subset: z.number().int().positive().optional(),
      /**
       * Validate each candidate also on up to this many training images the
       * subset leaves out (seeded, the same for every candidate), for data
       * whose validation split is small. On full Fashion-MNIST 52,000 images
       * ranked no better than the split's 6,000 (docs/bench/fidelity.md):
       * the training seed, not the validation images, is the noise there.
       * Needs `subset` (resolveSearchConfig checks). Absent: the validation split alone.
       */
      validateOutsideSubset: z.number().int().positive().optional(),
      /**
       * Every candidate sees the same batches in the same order, with the same
       * augmentation (common random numbers); only its initial weights follow its
       * own seed. Measured with bench:fidelity --shared-data-order (docs/bench/fidelity.md):
       * no consistent change in the proxy's seed-to-seed agreement on
       * Fashion-MNIST, since most of a seed's noise is each architecture's own.
       * Absent: each candidate's batch order follows its own seed.
       */
      sharedDataOrder: z.boolean().optional(),
      batchSize: z.number().int().positive().default(64),
      optimizer: z.enum(['sgd', 'adam']).default('sgd'),
      learningRate: z.number().positive().optional(),
      temperature: z.number().positive().default(4),
      alpha: z.number().min(0).max(1).default(0.9),
      augment: z.boolean().default(true),
      /** A candidate still training after this long is recorded as failed. */
      timeLimit: duration.default(1800),
    })
    .prefault({}),
  teacher: z
    .union([
      z.null(),
      z.strictObject({ onnx: z.string(), inputScale: z.enum(INPUT_SCALES).optional(), layout: z.enum(['NCHW', 'NHWC']).optional() }),
      // threads: data-parallel threads training the teacher (it trains alone, before the search); absent is 1.
      // architecture: the space's widest genome or a hand-designed baseline (train/trained-teacher.ts).
      z.strictObject({
        train: z.strictObject({
          epochs: z.number().int().positive(),
          threads: z.number().int().positive().optional(),
          architecture: z.enum(TEACHER_ARCHITECTURES).optional(),
        }),
      }),
    ])
    .default(null),
  latency: z
    .strictObject({
      iterations: z.number().int().positive().default(100),
      time: z.number().positive().default(500),
      /** The deployment's intra-op threads: candidates are measured with this many. */
      threads: z.number().int().positive().default(1),
      /**
       * The precision a candidate's latency is of (benchmarks/deployed-latency.ts): `fp32`
       * models; `int8`, the INT8 model compress would ship (its fastest variant, measured
       * against fp32); `best`, whichever of the two compress would ship. Constraints apply
       * to this latency; front/ holds the model in this precision.
       */
      precision: z.enum(LATENCY_PRECISIONS).default('fp32'),
      /**
       * Reject without measuring when the lookup table predicts over maxLatencyMs × this.
       * The table is of fp32 ops, so runs measuring another precision do not use it.
       */
      predictorSlack: z.number().min(1).optional(),
      /**
       * A predictor file from `nas predictor build` (fp32, this space, this target):
       * candidates whose predicted interval lies wholly inside or outside maxLatencyMs
       * are not measured. Refused when built for another target.
       */
      predictor: z.string().min(1).optional(),
      /**
       * Where a candidate's latency comes from. Absent or `measured`: the harness (here or
       * on the agent), a predictor saving only the measurements its interval decides
       * against maxLatencyMs. `predicted`: every candidate's latency is latency.predictor's
       * p50 and nothing is measured, as Once-for-All searches on a latency model: with a
       * supernet scoring accuracy in about a second, a 0.5 s measurement per candidate
       * would be a third of the search. Optional rather than defaulted, so that runs made
       * before it keep their configuration hash.
       */
      source: z.enum(['measured', 'predicted']).optional(),
      /** Measure on a bench agent (nas bench-agent) at this URL; its token comes from NAS_AGENT_TOKEN, never the config. */
      agent: z.url().optional(),
    })
    .prefault({}),
  /**
   * Train on the `nas worker`s of this Redis (redis://[user@]host[:port][/db], or rediss:// for TLS)
   * instead of local threads. Its password comes from NAS_REDIS_PASSWORD, never the config.
   */
  redis: z
    .string()
    .refine((url) => redisUrlProblem(url) === null, { message: 'expected redis://[user@]host[:port][/db] or rediss://…' })
    .refine((url) => !URL.canParse(url) || new URL(url).password === '', { message: 'holds a password: set NAS_REDIS_PASSWORD instead, so it is not written into the run directory' })
    .optional(),
  /**
   * Multi-fidelity search (asynchronous successive halving, search/promotion.ts): every
   * candidate trains for `training`'s budget (rung 0); the best 1/eta of each rung so far
   * train on from their weights to eta× the images of the rung below, up to `rungs` rungs.
   * Absent (or rungs 1): every candidate trains once.
   */
  fidelity: z
    .strictObject({
      rungs: z.number().int().min(1).max(6).default(3),
      eta: z.number().gt(1).default(3),
    })
    .optional(),
  /**
   * With redis: how long the run stays listed after the search was last heard from. Workers
   * train a killed search's queued jobs this long at most, then unlist the run until
   * `nas search --resume` lists it again. Default DEFAULT_RUN_TTL_SECONDS (train/queue/queue-runs.ts), 60 s.
   */
  redisRunTtl: duration.refine((seconds) => seconds > 0, { message: 'expected a duration over 0 s (e.g. 60s)' }).optional(),
  /** Training workers; one candidate per worker. */
  workers: z.number().int().positive().default(Math.max(1, os.availableParallelism())),
  /**
   * How a candidate's accuracy is read. `real`: trained (training.*); `supernet`: its
   * weights inherited from the trained supernet `supernet` names, BN recomputed, no
   * training; `proxy`: cheap analytic stand-ins for latency and accuracy (tests,
   * algorithm benchmarks). Latency is measured as configured for real and supernet.
   */
  evaluator: z.enum(['real', 'proxy', 'supernet']).default('real'),
  /**
   * With `"evaluator": "supernet"`: the key of a cached supernet (`nas supernet train`
   * prints it, `nas supernet` lists them), or `{ "train": {…} }`: the search trains the
   * space's supernet first as `nas supernet train` would (the default recipe, the run's
   * data and teacher, split seed 0), or finds it cached, and resumes an interrupted
   * training of it, as it does a teacher.
   */
  supernet: z
    .union([
      z.string().regex(/^[0-9a-f]{20}$/, 'expected the 20 hex digits of a supernet key (nas supernet lists them)'),
      z.strictObject({
        train: z.strictObject({
          epochs: z.number().positive().optional(),
          strategy: z.enum(['sandwich', 'progressive']).optional(),
          seed: z.number().int().min(0).optional(),
          /** Data-parallel threads (more than one is part of the supernet's key). */
          threads: z.number().int().positive().optional(),
        }),
      }),
    ])
    .optional(),
  /**
   * With `"evaluator": "supernet"`: how much data scores a subnet, the cost of a
   * candidate. `bnImages`: training images its batch-norm statistics are
   * recomputed from (SUBNET_BN_IMAGES, 512, when absent). `validationImages`: the
   * supernet's validation split's first n images score it (all of them when
   * absent). Fewer of either scores faster and ranks noisier; what each costs a
   * search's choice is measured by `bench:supernet --selection` (docs/supernet.md).
   */
  supernetScoring: z
    .strictObject({
      bnImages: z.number().int().min(1).optional(),
      validationImages: z.number().int().min(1).optional(),
    })
    .optional(),
  /**
   * What stands for a candidate's accuracy in the ranking. `accuracy`: top-1 on the
   * validation split. `log-likelihood`: the mean log-probability of the true class on
   * the same images, from the same logits (supernet scoring and training record it;
   * the proxy evaluator has no logits). Measured for the supernet (docs/supernet.md):
   * it ranks subnets alike on other images (Kendall τ 0.86 against top-1's 0.65) and
   * between supernets of two seeds (0.75 against 0.65), predicts a search's
   * candidates' test accuracy better than their validation accuracy does (0.77
   * against 0.70, 400 subnets), and ranks about as close to long training (0.27
   * against 0.24, two supernets averaged): it moves with every image's margin, where
   * top-1 moves only when one crosses. Not measured for one short training, so a real
   * run ranks by accuracy unless told. A new supernet run gets `log-likelihood` when
   * the field is absent (newRunConfig); optional rather than defaulted, so that runs
   * made before it keep their hash and rank by accuracy. Hypervolume stays in
   * accuracy whatever ranks, so runs compare in one unit.
   */
  rankBy: z.enum(['accuracy', 'log-likelihood']).optional(),
  /** Proxy only: milliseconds each proxy training takes. */
  proxyDelayMs: z.number().min(0).default(0),
  /** Hypervolume reference point; latency defaults to maxLatencyMs, else 5 ms. */
  hypervolumeReference: z
    .strictObject({ accuracy: z.number().default(0), latencyMs: z.number().positive().optional(), params: z.number().positive().optional(), macs: z.number().positive().optional() })
    .prefault({}),
});

/** A validated configuration, every default filled in. */
export type SearchConfig = z.output<typeof searchConfigSchema>;
/** A configuration as written: every field optional. */
export type SearchConfigInput = z.input<typeof searchConfigSchema>;

/** A bad search configuration, naming the file or field; exits with code 7 in the CLI. */
export class SearchConfigError extends CodedError {
  readonly code = 'E_SEARCH_CONFIG';
}

/**
 * A union's own issue says only "Invalid input" at the union's field. The
 * branch whose issue reaches deepest is the one the user meant (a `teacher`
 * with `train` inside is the trained-teacher branch), so report that issue,
 * at its full path; when no branch got past the union's own field, the
 * union's issue is the clearest.
 */
function mostSpecificIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const deepest = issue.errors.flat().reduce((a, b) => (b.path.length > a.path.length ? b : a));
  if (deepest.path.length === 0) return issue;
  const inner = mostSpecificIssue(deepest);
  return { ...inner, path: [...issue.path, ...inner.path] };
}

/** Validates and fills defaults; the error names the source and field. */
export function resolveSearchConfig(value: unknown, source = 'config'): SearchConfig {
  const parsed = searchConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = mostSpecificIssue(parsed.error.issues[0]);
    let field = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') field = [field, (issue as { keys: string[] }).keys[0]].filter(Boolean).join('.');
    throw new SearchConfigError(`${source}: ${field || '(root)'}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`);
  }
  const config = parsed.data;
  if (config.training.epochs !== undefined && config.training.images !== undefined) {
    throw new SearchConfigError(`${source}: training: give epochs or images, not both`);
  }
  if (config.training.validateOutsideSubset !== undefined && config.training.subset === undefined) {
    throw new SearchConfigError(`${source}: training.validateOutsideSubset: needs training.subset (only a subset leaves training images out to validate on)`);
  }
  if (config.evaluator === 'supernet' && config.supernet === undefined) {
    throw new SearchConfigError(`${source}: supernet: "evaluator": "supernet" needs the key of a trained supernet (nas supernet train prints it), or { "train": {} } to train it first`);
  }
  if (config.evaluator !== 'supernet' && config.supernet !== undefined) {
    throw new SearchConfigError(`${source}: supernet: is used only with "evaluator": "supernet" (evaluator is ${config.evaluator})`);
  }
  if (config.evaluator !== 'supernet' && config.supernetScoring !== undefined) {
    throw new SearchConfigError(`${source}: supernetScoring: is used only with "evaluator": "supernet" (evaluator is ${config.evaluator})`);
  }
  if (config.rankBy === 'log-likelihood' && config.evaluator === 'proxy') {
    throw new SearchConfigError(`${source}: rankBy: the proxy evaluator's accuracy is a formula, with no logits to read a log-likelihood from (use "evaluator": "real" or "supernet", or "rankBy": "accuracy")`);
  }
  if (config.evaluator === 'supernet' && config.fidelity !== undefined) {
    throw new SearchConfigError(`${source}: fidelity: rungs train candidates further; a supernet's subnets are scored, not trained (drop fidelity, or use "evaluator": "real")`);
  }
  if (config.latency.precision !== 'fp32' && config.evaluator === 'proxy') {
    throw new SearchConfigError(`${source}: latency.precision: the proxy evaluator's latency is a formula of MACs and depth, no model is measured; use "evaluator": "real" or "supernet" to measure ${config.latency.precision}`);
  }
  if (config.latency.precision === 'best' && config.latency.predictor !== undefined) {
    throw new SearchConfigError(`${source}: latency.predictor: a predictor stands for one precision and "best" picks fp32 or INT8 per candidate by measuring both; use precision "int8" with an int8 predictor, or drop the predictor`);
  }
  if (config.latency.source === 'predicted' && config.latency.predictor === undefined) {
    throw new SearchConfigError(`${source}: latency.source: "predicted" takes every latency from a predictor file; set latency.predictor (nas predictor build writes one), or measure ("source": "measured")`);
  }
  if (config.training.epochs === undefined && config.training.images === undefined) config.training.epochs = 1;
  return config;
}

/** Reads a JSON config file as an object, before validation. */
export function readJsonConfig(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new SearchConfigError(`${file}: config file not found`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SearchConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SearchConfigError(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** JSON with object keys sorted, so equal configurations serialise equally. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the resolved configuration (name, where its Redis is and the run's TTL there aside), 16 hex characters. */
export function configHash(config: SearchConfig): string {
  const { name: _name, redis: _redis, redisRunTtl: _redisRunTtl, ...rest } = config;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** The objectives a config searches, in the order of the points' coordinates; under `"rankBy": "log-likelihood"` it stands for accuracy. */
export function objectivesOf(config: SearchConfig): Array<'accuracy' | 'logLikelihood' | 'latency' | 'params' | 'macs'> {
  const first = config.rankBy === 'log-likelihood' ? 'logLikelihood' : 'accuracy';
  return config.thirdObjective ? [first, 'latency', config.thirdObjective] : [first, 'latency'];
}

/**
 * The configuration a new run writes to its config.json: `config` with the
 * defaults that depend on the evaluator made explicit. A supernet run ranks by
 * log-likelihood unless it says otherwise; written out, so that a run resumed
 * under a later default still ranks as it began.
 */
export function newRunConfig(config: SearchConfig): SearchConfig {
  return config.evaluator === 'supernet' && config.rankBy === undefined ? { ...config, rankBy: 'log-likelihood' } : config;
}
