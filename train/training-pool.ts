/**
 * The pool of training threads: one candidate per thread, each running
 * {@link runTrainingJob} (train-worker.ts). The search's local training and
 * `nas worker` both train through it.
 */
import { Piscina } from 'piscina';
import { builtFile } from '../locations.js';
import type { TrainingJobResult, TrainingTask } from './training-job.js';

export interface TrainingPoolOptions {
  /** Training threads, one candidate each. @default 1 */
  threads?: number;
  /** Worker entry; tests substitute one that misbehaves. @default the built train/train-worker.js */
  workerFile?: string;
}

/** The time limit's error: recorded as the candidate's failure. */
export class TrainingTimeLimitError extends Error {
  constructor(readonly seconds: number) {
    super(`training passed its time limit of ${seconds} s`);
    this.name = 'TrainingTimeLimitError';
  }
}

export class TrainingPool {
  readonly #pool: Piscina;

  constructor(options: TrainingPoolOptions = {}) {
    const threads = options.threads ?? 1;
    this.#pool = new Piscina({
      filename: options.workerFile ?? builtFile(import.meta.url, 'train-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  /** Trains one task; aborting `signal` or passing `timeLimitSeconds` ends its thread. */
  async run(task: TrainingTask, signal: AbortSignal, timeLimitSeconds: number): Promise<TrainingJobResult> {
    const timeout = AbortSignal.timeout(timeLimitSeconds * 1000);
    try {
      return (await this.#pool.run(task, { signal: AbortSignal.any([signal, timeout]) })) as TrainingJobResult;
    } catch (error) {
      if (timeout.aborted) throw new TrainingTimeLimitError(timeLimitSeconds);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
