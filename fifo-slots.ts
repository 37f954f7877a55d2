/**
 * At most `size` tasks at once, admitted in the order they asked.
 *
 * The worker pools hand Piscina only as many tasks as it has threads and keep
 * the rest here, for two reasons. Piscina's queue does not keep the order: a
 * task it cannot place at once goes to the back of its queue (with an abort
 * signal and `stricterFIFO`, to the front), so twelve tasks on one thread ran
 * as 0 2 4 6 8 10 1 5 9 3 11 7. And a task's time limit, an abort signal made
 * when the task is submitted, would run while the task waits: a measurement
 * queued behind a slow one could time out before it started.
 */
export class FifoSlots {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`slots must be a positive integer, got ${size}`);
    this.#free = size;
  }

  /**
   * Runs `task` once a slot is free and every earlier caller has been
   * admitted. Aborting `signal` while it waits rejects with the signal's
   * reason and gives its place up; once admitted, the task owns the signal.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#admission(signal);
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }

  #admission(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.#free > 0 && this.#waiting.length === 0) {
      this.#free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const entry = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }
}
