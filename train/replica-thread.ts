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
