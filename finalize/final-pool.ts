/**
 * Where a finalization's models train, behind one contract: `FinalTrainer`
 * trains one model of the plan to its end. `LocalFinalTrainer` runs them on
 * this machine's threads (finalize-worker.ts, one model per thread);
 * final-queue-trainer.ts sends them to `nas worker`s through Redis, whose
 * handler (final-job-handler.ts) runs them on its threads the same way,
 * through {@link runFinalTask}.
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { builtFile } from '../locations.js';
import { trainingThreads } from '../train/training-pool.js';
import type { FinalTrainTask } from './train-final.js';
import type { FinalizeEvent, FinalRecord } from './types.js';

/** Trains the models of a finalization; finalize-run.ts picks one. */
export interface FinalTrainer {
  /** Trains one model to the end of its recipe, continuing from its checkpoint; rejects when its training failed. */
  train(task: FinalTrainTask, onEvent: (event: FinalizeEvent) => void): Promise<FinalRecord>;
  /** Frees what it holds; `finished`: every model has its outcome (nothing is left for a resume). */
  close(finished: boolean): Promise<void>;
}

/** The built thread entry of finalize's training. */
export function builtFinalizeWorker(): string {
  return builtFile(import.meta.url, 'finalize-worker.js');
}

/** Runs `task` on a thread of `pool` (finalize-worker.ts), its events passed to `onEvent` as they happen. */
export async function runFinalTask(pool: Piscina, task: FinalTrainTask, onEvent: (event: FinalizeEvent) => void): Promise<FinalRecord> {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (e: FinalizeEvent) => onEvent(e));
  try {
    // piscina's TransferList type disagrees with @types/node's MessagePort; the value is what it expects.
    const transfer = { transferList: [port2] } as unknown as Parameters<typeof pool.run>[1];
    return (await pool.run({ ...task, port: port2 }, transfer)) as FinalRecord;
  } finally {
    port1.close();
  }
}

/** This machine's threads, one model each, started in the plan's order. */
export class LocalFinalTrainer implements FinalTrainer {
  readonly #pool: Piscina;

  constructor(workers: number, workerFile = builtFinalizeWorker()) {
    this.#pool = trainingThreads(workerFile, workers, true);
  }

  train(task: FinalTrainTask, onEvent: (event: FinalizeEvent) => void): Promise<FinalRecord> {
    return runFinalTask(this.#pool, task, onEvent);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
