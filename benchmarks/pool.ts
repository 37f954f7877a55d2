/**
 * The one Piscina pool for latency. Measurements run in a worker thread
 * (onnxruntime-node's run() blocks its thread), one at a time by default so
 * they never compete for a core. A worker that crashes or passes the timeout
 * fails only that measurement, with an error saying which; Piscina replaces
 * the worker and the pool keeps serving.
 */
import type { Piscina } from 'piscina';
import { FifoSlots } from '../fifo-slots.js';
import { workerPool } from '../worker-pool.js';
import { builtFile } from '../locations.js';
import type { ComparedMeasurement } from './compare.js';
import { DEFAULT_TASK_TIMEOUT } from './constants.js';
import type { Measurement, MeasureOptions } from './types.js';
import type { WorkerTask } from './worker.js';

/** How {@link LatencyPool} runs; all optional. */
export interface LatencyPoolOptions {
  /** Measurements at once. More than one makes them compete for cores. @default 1 */
  concurrency?: number;
  /** A measurement still running after this many ms fails and its worker is replaced. @default 120000 */
  timeout?: number;
  /** Worker entry file; tests substitute one that misbehaves. @default the built benchmarks/worker.js */
  workerFile?: string;
}

/** The built worker: Piscina cannot load TypeScript, so from sources we point at dist/. */
export function defaultWorkerFile(): string {
  return builtFile(import.meta.url, 'worker.js');
}

/** Latency measurements in worker threads (Piscina), one at a time by default, with a timeout that replaces a stuck worker. */
export class LatencyPool {
  readonly #pool: Piscina;
  readonly #timeout: number;
  /** Measurements run in the order they were asked for, each timed from its start, not from its arrival (fifo-slots.ts). */
  readonly #slots: FifoSlots;

  constructor(options: LatencyPoolOptions = {}) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.#timeout = options.timeout ?? DEFAULT_TASK_TIMEOUT;
    if (!(this.#timeout > 0)) throw new RangeError(`timeout must be > 0 ms, got ${this.#timeout}`);
    this.#slots = new FifoSlots(concurrency);
    this.#pool = workerPool(options.workerFile ?? defaultWorkerFile(), {
      minThreads: 1,
      maxThreads: concurrency,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  async #run<T>(task: WorkerTask, failed: (message: string) => T): Promise<T> {
    try {
      return await this.#slots.run(async () => (await this.#pool.run(task, { signal: AbortSignal.timeout(this.#timeout) })) as T);
    } catch (error) {
      const e = error as Error;
      const aborted = e.name === 'AbortError' || e.name === 'TimeoutError' || /abort/i.test(e.message);
      return failed(aborted ? `timed out after ${this.#timeout} ms; the worker was replaced` : `worker failed: ${e.message}`);
    }
  }

  /** Measures one model (a path, or ONNX bytes named `name`). */
  measure(source: string | Uint8Array, name: string, options: MeasureOptions = {}): Promise<Measurement> {
    return this.#run<Measurement>({ kind: 'measure', name, source, options }, (message) => ({
      state: 'errored',
      model: name,
      error: { code: 'E_WORKER', message: `${name}: ${message}` },
    }));
  }

  /** Measures models interleaved (ABAB) in one worker; see compare.ts. */
  compare(models: Array<{ name: string; source: string | Uint8Array }>, options: MeasureOptions = {}, rounds?: number): Promise<ComparedMeasurement[]> {
    return this.#run<ComparedMeasurement[]>({ kind: 'compare', models, options, rounds }, (message) =>
      models.map((m) => ({ state: 'errored', model: m.name, error: { code: 'E_WORKER', message: `${m.name}: ${message}` }, ratioToFirst: null })),
    );
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}
