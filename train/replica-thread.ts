/**
 * A worker thread that answers its main thread's requests in order: the
 * transport of both data-parallel trainings (one model, data-parallel.ts; a
 * supernet, supernet-train.ts). Replies are read one by one, each of the
 * type the caller expects; an `error` reply, a crash or an early exit fails
 * every wait at once, naming the thread.
 */
import { Worker } from 'node:worker_threads';

export class ReplicaThread<Request, Reply extends { type: string }> {
  readonly #worker: Worker;
  readonly #replies: Reply[] = [];
  readonly #waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  #failure: Error | null = null;
  #closing = false;

  /** `label` names the thread in errors, e.g. "data-parallel thread 1". */
  constructor(file: string, readonly label: string, workerData: unknown) {
    this.#worker = new Worker(file, { workerData });
    this.#worker.on('message', (reply: Reply) => {
      if (reply.type === 'error') this.#fail(new Error(`${label}: ${(reply as unknown as { message: string }).message}`));
      else if (this.#waiting.length) this.#waiting.shift()!.resolve(reply);
      else this.#replies.push(reply);
    });
    this.#worker.on('error', (error) => this.#fail(error instanceof Error ? error : new Error(String(error))));
    this.#worker.on('exit', (code) => this.#closing || this.#fail(new Error(`${label} exited with code ${code}`)));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(this.#failure);
  }

  post(request: Request): void {
    this.#worker.postMessage(request);
  }

  /** The next reply, which must be of `type`. */
  async next<T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> {
    if (this.#failure) throw this.#failure;
    const reply = this.#replies.shift() ?? (await new Promise<Reply>((resolve, reject) => this.#waiting.push({ resolve, reject })));
    if (reply.type !== type) throw new Error(`${this.label}: expected a '${type}' reply, got '${reply.type}'`);
    return reply as Extract<Reply, { type: T }>;
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }
}

/**
 * Asks every replica for its trainable weights at `step` and throws, naming
 * the first that differs from `reference` (the main thread's) and where: the
 * check both data-parallel trainings make at every epoch's end.
 */
export async function checkReplicasAgree(
  reference: Float32Array,
  threads: ReadonlyArray<{ label: string; post(request: { type: 'weights'; step: number }): void; next(type: 'weights'): Promise<{ weights: Float32Array }> }>,
  step: number,
): Promise<void> {
  for (const t of threads) t.post({ type: 'weights', step });
  const bits = new Uint32Array(reference.buffer, reference.byteOffset, reference.length);
  for (const t of threads) {
    const theirs = new Uint32Array((await t.next('weights')).weights.buffer);
    const at = bits.findIndex((v, j) => v !== theirs[j]);
    if (at >= 0) throw new Error(`replicas diverged at step ${step}: ${t.label} differs from the main thread at weight float ${at}`);
  }
}
