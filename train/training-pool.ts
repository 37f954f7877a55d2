/**
 * The pool of training threads: one candidate per thread, each running
 * {@link runTrainingJob} (train-worker.ts). The search's local training and
 * `nas worker` both train through it; {@link trainingThreads} is the pool
 * itself, for callers with their own worker entry (finalize, bench/kd.ts).
 */
import type { Piscina } from 'piscina';
import { FifoSlots } from '../fifo-slots.js';
import { workerPool } from '../worker-pool.js';
import { builtFile } from '../locations.js';
import type { TrainingJobResult, TrainingTask } from './training-job.js';

/**
 * A Piscina pool of `threads` training threads, one task at a time on each,
 * kept for a minute when idle: the one set of options every training pool
 * shares (the search's and \`nas worker\`'s below, finalize's, the KD bench's).
 * \`inOrder\`: tasks start in the order they are run (Piscina's stricterFIFO,
 * which holds only for tasks without abort signals; fifo-slots.ts).
 */
export function trainingThreads(filename: string, threads: number, inOrder = false): Piscina {
  return workerPool(filename, { minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 1, idleTimeout: 60_000, ...(inOrder ? { stricterFIFO: true } : {}) });
}

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
  /** Candidates start in the order they were asked for, and a time limit runs from the start (fifo-slots.ts). */
  readonly #slots: FifoSlots;

  constructor(options: TrainingPoolOptions = {}) {
    const threads = options.threads ?? 1;
    this.#slots = new FifoSlots(threads);
    this.#pool = trainingThreads(options.workerFile ?? builtFile(import.meta.url, 'train-worker.js'), threads);
  }

  /**
   * Trains one task once a thread is free, in the order tasks were given; aborting
   * `signal` or passing `timeLimitSeconds` (counted from the start, not the wait) ends its thread.
   */
  async run(task: TrainingTask, signal: AbortSignal, timeLimitSeconds: number): Promise<TrainingJobResult> {
    return this.#slots.run(async () => {
      const timeout = AbortSignal.timeout(timeLimitSeconds * 1000);
      try {
        return (await this.#pool.run(task, { signal: AbortSignal.any([signal, timeout]) })) as TrainingJobResult;
      } catch (error) {
        if (timeout.aborted) throw new TrainingTimeLimitError(timeLimitSeconds);
        throw error;
      }
    }, signal);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
