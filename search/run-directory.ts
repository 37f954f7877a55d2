/**
 * A search run's directory: created (config.json written) by the search, and
 * read back and checked in one place. `readRun` is the reader for every
 * stage after the search (report, finalize, compress, a library user):
 * config.json (validated, its hash checked), environment.json (sessions, the
 * teacher-logits key), pareto.csv (parsed, best accuracy first) and which
 * front members have files in front/. Reading writes nothing.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { defaultResultsDir } from '../locations.js';
import { configHash, resolveSearchConfig, SearchConfigError, type SearchConfig } from './config.js';
import { JOURNAL_FILE } from './journal.js';
import type { DataSplit } from '../train/datasets/prepared.js';
import { CodedError } from '../errors.js';

/** The run's configuration, its hash and its id, written when the run starts. */
export const CONFIG_FILE = 'config.json';

/** A run directory that is missing a file or holds a bad one; names the file and field. */
export class RunDirectoryError extends CodedError {
  readonly code = 'E_RUN_DIRECTORY';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const configFileSchema = z.object({ config: z.unknown(), configHash: z.string(), seed: z.number().int().optional(), runId: z.unknown().optional() });
const environmentSchema = z.object({
  sessions: z
    .array(
      z.looseObject({
        startedAt: z.string(),
        teacherLogitsKey: z.string().nullable().optional(),
        configHash: z.string().optional(),
        // A supernet run's: the supernet that scored its candidates.
        supernetKey: z.string().optional(),
        // Absent in runs from before it was recorded: the config's split.
        validationSplit: z.object({ validationFraction: z.number().gt(0).lt(1), seed: z.number().int() }).optional(),
      }),
    )
    .min(1, 'holds no session'),
});
const number = z.coerce.number().refine(Number.isFinite, 'expected a number');
const paretoRowSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{12}$/, 'expected a 12-hex-digit genome id'),
  accuracy: number,
  latency_p50_ms: number,
  latency_p90_ms: number,
  params: number,
  macs: number,
  generation: number,
  genome: z.string(),
  files: z.string(),
  // Absent in runs from before latency precisions: fp32.
  latency_precision: z.enum(['fp32', 'int8']).optional(),
  int8_variant: z.string().optional(),
  // Empty for the proxy evaluator, absent in runs from before it.
  log_likelihood: z.preprocess((v) => (v === '' ? undefined : v), number.optional()),
});

/** One row of pareto.csv: a member of the run's Pareto front. */
export interface FrontMember {
  id: string;
  /** Validation accuracy after the search's training, 0–1. */
  accuracy: number;
  /** Mean log-likelihood on the same images, where the search recorded one (supernet scoring and training). */
  logLikelihood: number | null;
  /** What the search ranked this member by: `logLikelihood` under `"rankBy": "log-likelihood"`, else `accuracy`. Finalize chooses by it. */
  rankScore: number;
  latencyP50: number;
  latencyP90: number;
  /** The precision the latency is of (latency.precision; under `best`, the winner). */
  latencyPrecision: 'fp32' | 'int8';
  /** With `latencyPrecision` int8: the INT8 variant measured, which compress keeps. */
  int8Variant: string | null;
  params: number;
  macs: number;
  generation: number;
  genome: string;
  /** `front/<id>` when that directory holds genome.json, else null. */
  frontDir: string | null;
}

/** A search run as {@link readRun} reads it back. */
export interface Run {
  dir: string;
  config: SearchConfig;
  configHash: string;
  /** Names the run's queue; older runs get one from their configuration and place. */
  runId: string;
  sessions: Array<{ startedAt: string; teacherLogitsKey?: string | null; supernetKey?: string }>;
  /** The latest session's teacher-logits key (null: no teacher). */
  teacherKey: string | null;
  /** The training/validation split the run's candidates were validated on: a supernet run's is its supernet's, others the config's. */
  split: DataSplit;
  /** The front, best accuracy first. */
  front: FrontMember[];
}

function readJson(file: string): unknown {
  if (!existsSync(file)) throw new RunDirectoryError(file, 'not found; is this a search run directory?');
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RunDirectoryError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

function field(issue: z.core.$ZodIssue): string {
  return issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)';
}

/**
 * A run's config.json alone, validated and its hash checked: what resuming
 * and `nas report` need (they run before pareto.csv exists). The one place
 * config.json is parsed.
 */
export function readRunConfig(dir: string): { config: SearchConfig; configHash: string; runId: string } {
  const configPath = join(dir, CONFIG_FILE);
  const saved = configFileSchema.safeParse(readJson(configPath));
  if (!saved.success) throw new RunDirectoryError(configPath, `${field(saved.error.issues[0])}: ${saved.error.issues[0].message}`);
  let config: SearchConfig;
  try {
    config = resolveSearchConfig(saved.data.config, configPath);
  } catch (error) {
    throw new RunDirectoryError(configPath, (error as Error).message.replace(`${configPath}: `, ''));
  }
  if (configHash(config) !== saved.data.configHash) throw new RunDirectoryError(configPath, 'configHash does not match its config; the file was edited');
  // Runs written before run ids existed get one from their configuration and place.
  const savedRunId = saved.data.runId;
  const runId = typeof savedRunId === 'string' && /^[0-9a-f]{16}$/.test(savedRunId) ? savedRunId : createHash('sha256').update(`${saved.data.configHash}:${resolve(dir)}`).digest('hex').slice(0, 16);
  return { config, configHash: saved.data.configHash, runId };
}

/**
 * The latest session's teacher-logits key from environment.json, or null
 * when the run has none, or the file is missing or unreadable: for the
 * report, which is written whatever state the directory is in.
 */
export function readTeacherKey(dir: string): string | null {
  try {
    const env = environmentSchema.safeParse(JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')));
    return env.success ? (env.data.sessions.at(-1)?.teacherLogitsKey ?? null) : null;
  } catch {
    return null;
  }
}

/**
 * Reads and checks a run directory, writing nothing; the first problem
 * throws {@link RunDirectoryError}, naming the file and the field.
 */
export function readRun(dir: string): Run {
  const { config, configHash: hash, runId } = readRunConfig(dir);

  const envPath = join(dir, 'environment.json');
  const env = environmentSchema.safeParse(readJson(envPath));
  if (!env.success) throw new RunDirectoryError(envPath, `${field(env.error.issues[0])}: ${env.error.issues[0].message}`);

  const paretoPath = join(dir, 'pareto.csv');
  if (!existsSync(paretoPath)) throw new RunDirectoryError(paretoPath, 'not found; run the search to its end, or nas report');
  let rows: unknown[];
  try {
    rows = parse(readFileSync(paretoPath), { columns: true, skip_empty_lines: true });
  } catch (error) {
    throw new RunDirectoryError(paretoPath, `is not valid CSV (${(error as Error).message})`);
  }
  const front = rows.map((row, i): FrontMember => {
    const r = paretoRowSchema.safeParse(row);
    if (!r.success) throw new RunDirectoryError(paretoPath, `row ${i + 1}: ${field(r.error.issues[0])}: ${r.error.issues[0].message}`);
    const frontDir = join('front', r.data.id);
    const logLikelihood = r.data.log_likelihood ?? null;
    if (config.rankBy === 'log-likelihood' && logLikelihood === null) throw new RunDirectoryError(paretoPath, `row ${i + 1}: log_likelihood: missing, and the run ranks by it (rankBy in config.json)`);
    return {
      id: r.data.id,
      accuracy: r.data.accuracy,
      logLikelihood,
      rankScore: config.rankBy === 'log-likelihood' ? logLikelihood! : r.data.accuracy,
      latencyP50: r.data.latency_p50_ms,
      latencyP90: r.data.latency_p90_ms,
      latencyPrecision: r.data.latency_precision ?? 'fp32',
      int8Variant: r.data.int8_variant || null,
      params: r.data.params,
      macs: r.data.macs,
      generation: r.data.generation,
      genome: r.data.genome,
      frontDir: existsSync(join(dir, frontDir, 'genome.json')) ? frontDir : null,
    };
  });
  const sessions = env.data.sessions;
  const split = sessions.at(-1)?.validationSplit ?? { validationFraction: config.validationFraction, seed: config.seed };
  return { dir, config, configHash: hash, runId, sessions, teacherKey: sessions.at(-1)?.teacherLogitsKey ?? null, split, front };
}

/** Where a new run writes when no directory is named: results/<config.name or a timestamp>. */
function defaultRunDir(config: SearchConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join(defaultResultsDir(), config.name ?? `run-${stamp}`);
}

/** A new run's id: names its queue; unique to this run directory and moment. */
function newRunId(runDir: string, config: SearchConfig): string {
  return createHash('sha256').update(`${configHash(config)}:${resolve(runDir)}:${hostname()}:${new Date().toISOString()}`).digest('hex').slice(0, 16);
}

/** Where and how a new run's directory is made. */
export interface CreateRunDirOptions {
  /** @default results/<config.name or a timestamp> under the current directory */
  runDir?: string;
  /** When the default directory already holds a run, use `<name>-2`, `-3`… instead of refusing. */
  uniqueRunDir?: boolean;
}

/** Makes a new run's directory and writes its config.json; refuses a directory that already holds a run. */
export function createRunDir(config: SearchConfig, options: CreateRunDirOptions = {}): { runDir: string; runId: string } {
  let runDir = options.runDir ?? defaultRunDir(config);
  if (!options.runDir && options.uniqueRunDir) {
    const base = runDir;
    for (let n = 2; existsSync(join(runDir, JOURNAL_FILE)); n++) runDir = `${base}-${n}`;
  }
  if (existsSync(join(runDir, JOURNAL_FILE))) {
    throw new SearchConfigError(`${runDir} already holds a run; resume it with --resume ${runDir}, or choose another name`);
  }
  mkdirSync(runDir, { recursive: true });
  const runId = newRunId(runDir, config);
  writeFileSync(join(runDir, CONFIG_FILE), JSON.stringify({ config, configHash: configHash(config), seed: config.seed, runId }, null, 2) + '\n');
  return { runDir, runId };
}

/**
 * A run's saved configuration and id, to resume it. A missing config.json is
 * a missing run directory (exit 14, as for every other command); an edited
 * one is the search's configuration error.
 */
export function reopenRunDir(runDir: string): { config: SearchConfig; runId: string } {
  if (!existsSync(join(runDir, CONFIG_FILE))) throw new RunDirectoryError(join(runDir, CONFIG_FILE), `not found; is ${runDir} a run directory?`);
  try {
    const { config, runId } = readRunConfig(runDir);
    return { config, runId };
  } catch (error) {
    if (error instanceof RunDirectoryError) throw new SearchConfigError(error.message);
    throw error;
  }
}
