/** The run's environment file: versions, backend, CPU (model and instruction sets), seed and config hash. */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { cpuFeatures } from '../benchmarks/cpu-features.js';
import { captureEnvironment } from '../benchmarks/environment.js';
import { packageInfo } from '../locations.js';
import { selectBackend } from '../train/backend.js';
import type { DataSplit } from '../train/datasets/prepared.js';
import { configHash, type SearchConfig } from './config.js';

export const ENVIRONMENT_FILE = 'environment.json';

/** Appends this session's environment to environment.json (a run resumed three times has four). */
export async function captureRunEnvironment(
  runDir: string,
  config: SearchConfig,
  teacherKey: string | null,
  supernetKey: string | null = null,
  validationSplit: DataSplit = { validationFraction: config.validationFraction, seed: config.seed },
): Promise<void> {
  const backend = config.evaluator === 'real' ? await selectBackend() : null;
  const pkg = packageInfo();
  const session = {
    startedAt: new Date().toISOString(),
    package: `${pkg.name}@${pkg.version}`,
    seed: config.seed,
    configHash: configHash(config),
    tfjs: tf.version_core,
    backend,
    teacherLogitsKey: teacherKey,
    // The supernet that scored this session's candidates (a key, or the one a { "train": … } config trained).
    ...(supernetKey ? { supernetKey } : {}),
    // The training/validation split candidates were validated on (a supernet run: its supernet's); finalize trains on the same.
    validationSplit,
    ...captureEnvironment(),
    // AVX2, AVX-512 and VNNI change timings about 2×: latencies from two sessions compare only on the same flags.
    cpuInstructionSets: cpuFeatures().instructionSets,
  };
  const file = join(runDir, ENVIRONMENT_FILE);
  const sessions = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { sessions: unknown[] }).sessions : [];
  writeFileSync(file, JSON.stringify({ sessions: [...sessions, session] }, null, 2) + '\n');
}
