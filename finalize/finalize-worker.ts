/**
 * Piscina worker of `nas finalize`: one model per task, through
 * {@link trainFinalModel}; events go back over the task's MessagePort.
 */
import type { MessagePort } from 'node:worker_threads';
import { trainFinalModel, type FinalTrainTask } from './train-final.js';
import type { FinalRecord } from './types.js';

export default async function finalizeWorker(task: FinalTrainTask & { port?: MessagePort }): Promise<FinalRecord> {
  const { port, ...rest } = task;
  try {
    return await trainFinalModel(rest, (event) => port?.postMessage(event));
  } finally {
    port?.close();
  }
}
