/**
 * A search run's directory read and checked once, for the stages after the
 * search (report, finalize, compress): config.json (validated, its hash
 * checked), environment.json (sessions, the teacher-logits key), pareto.csv
 * (parsed, best accuracy first) and which front members have files in front/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { configHash, resolveSearchConfig, type SearchConfig } from './config.js';

/** A run directory that is missing a file or holds a bad one; names the file and field. */
export class RunDirectoryError extends Error {
  readonly code = 'E_RUN_DIRECTORY';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'RunDirectoryError';
  }
}

const configFileSchema = z.object({ config: z.unknown(), configHash: z.string(), seed: z.number().int().optional() });
const environmentSchema = z.object({
  sessions: z.array(z.looseObject({ startedAt: z.string(), teacherLogitsKey: z.string().nullable().optional(), configHash: z.string().optional() })).min(1, 'holds no session'),
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
});

/** One row of pareto.csv. */
export interface ParetoRow {
  id: string;
  /** Validation accuracy after the search's training, 0–1. */
  accuracy: number;
  latencyP50: number;
  latencyP90: number;
  params: number;
  macs: number;
  generation: number;
  genome: string;
  /** `front/<id>` when that directory holds genome.json, else null. */
  frontDir: string | null;
}

export interface RunDirectory {
  dir: string;
  config: SearchConfig;
  configHash: string;
  sessions: Array<{ startedAt: string; teacherLogitsKey?: string | null }>;
  /** The latest session's teacher-logits key (null: no teacher). */
  teacherKey: string | null;
  /** The front, best accuracy first. */
  front: ParetoRow[];
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
 * and `nas report` need (they run before pareto.csv exists).
 */
export function readRunConfig(dir: string): { config: SearchConfig; configHash: string } {
  const configPath = join(dir, 'config.json');
  const saved = configFileSchema.safeParse(readJson(configPath));
  if (!saved.success) throw new RunDirectoryError(configPath, `${field(saved.error.issues[0])}: ${saved.error.issues[0].message}`);
  let config: SearchConfig;
  try {
    config = resolveSearchConfig(saved.data.config, configPath);
  } catch (error) {
    throw new RunDirectoryError(configPath, (error as Error).message.replace(`${configPath}: `, ''));
  }
  if (configHash(config) !== saved.data.configHash) throw new RunDirectoryError(configPath, 'configHash does not match its config; the file was edited');
  return { config, configHash: saved.data.configHash };
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

/** Reads and checks a run directory; the first problem throws {@link RunDirectoryError}. */
export function readRunDirectory(dir: string): RunDirectory {
  const { config, configHash: hash } = readRunConfig(dir);

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
  const front = rows.map((row, i): ParetoRow => {
    const r = paretoRowSchema.safeParse(row);
    if (!r.success) throw new RunDirectoryError(paretoPath, `row ${i + 1}: ${field(r.error.issues[0])}: ${r.error.issues[0].message}`);
    const frontDir = join('front', r.data.id);
    return {
      id: r.data.id,
      accuracy: r.data.accuracy,
      latencyP50: r.data.latency_p50_ms,
      latencyP90: r.data.latency_p90_ms,
      params: r.data.params,
      macs: r.data.macs,
      generation: r.data.generation,
      genome: r.data.genome,
      frontDir: existsSync(join(dir, frontDir, 'genome.json')) ? frontDir : null,
    };
  });
  const sessions = env.data.sessions;
  return { dir, config, configHash: hash, sessions, teacherKey: sessions.at(-1)?.teacherLogitsKey ?? null, front };
}
