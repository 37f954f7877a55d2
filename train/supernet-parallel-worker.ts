/**
 * Worker thread of data-parallel supernet training (supernet-train.ts): a
 * replica of the supernet built from the main thread's weights, answering in
 * order — `step` (the step's subnets on its shard, gradient into its slot of
 * the shared buffer), `apply` (the averaged gradient), `weights` (its
 * trainable weights, to check the replicas agree). It draws a step's subnets
 * and enters phases exactly as the main thread does, from the step number.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SupernetSpace } from '../space/supernet.js';
import { flatWeightSource, supernetPlan } from '../space/supernet.js';
import { selectBackend, type BackendName } from './backend.js';
import type { OptimizerState, Shard } from './data-parallel-replica.js';
import { phasesOf, phaseStarts, stepSubnets, type SupernetRecipe } from './supernet-phases.js';
import { SupernetReplica, type SupernetReplicaOptions } from './supernet-replica.js';
import { SupernetWeights } from './supernet-weights.js';

/** A worker's `workerData`. */
export interface SupernetWorkerInit {
  /** 1 … threads − 1: its gradient slot. */
  index: number;
  backend: BackendName;
  space: SupernetSpace;
  dataShape: { numClasses: number; inputChannels: number };
  recipe: SupernetRecipe;
  replicaOptions: SupernetReplicaOptions;
  /** Every supernet tensor (BN statistics included), planWeightShapes order. */
  weights: Float32Array[];
  optimizerState: OptimizerState | null;
  /** The step a resumed run starts at, or null. */
  resumeStep: number | null;
  steps: number;
  buffers: {
    images: SharedArrayBuffer;
    labels: SharedArrayBuffer;
    teacher: SharedArrayBuffer | null;
    gradients: SharedArrayBuffer;
    average: SharedArrayBuffer;
    shape: { height: number; width: number; channels: number; numClasses: number };
  };
}

export type SupernetWorkerRequest = { type: 'step'; step: number; shard: Shard } | { type: 'apply'; step: number; learningRate: number } | { type: 'weights'; step: number };

export type SupernetWorkerReply =
  | { type: 'ready'; size: number }
  | { type: 'gradients'; step: number; loss: number }
  | { type: 'weights'; step: number; weights: Float32Array }
  | { type: 'error'; message: string };

// Only when run as a worker: the main thread imports this module for its types.
if (parentPort && workerData && (workerData as Partial<SupernetWorkerInit>).recipe) {
  const init = workerData as SupernetWorkerInit;
  const port = parentPort;
  const send = (reply: SupernetWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);
  try {
    await selectBackend(init.backend);
    const plan = supernetPlan(init.space, init.dataShape);
    const kernelTransform = init.recipe.kernelTransform ?? false;
    const weights = SupernetWeights.fromSource(plan, flatWeightSource(plan, init.weights, kernelTransform), kernelTransform);
    const replica = new SupernetReplica(weights, init.space, init.replicaOptions, init.dataShape);
    const phases = phasesOf(init.recipe.strategy);
    const starts = phaseStarts(phases, init.steps);
    const { buffers } = init;
    const batch = {
      images: new Float32Array(buffers.images),
      labels: new Int32Array(buffers.labels),
      teacher: buffers.teacher ? new Float32Array(buffers.teacher) : null,
      ...buffers.shape,
    };
    const slot = new Float32Array(buffers.gradients, init.index * replica.size * 4, replica.size);
    const average = new Float32Array(buffers.average);
    // Messages are handled one at a time, in order: a step's phase entry may await.
    let queue = Promise.resolve();
    port.on('message', (request: SupernetWorkerRequest) => {
      queue = queue.then(async () => {
        try {
          if (request.type === 'step') {
            const p = phases.findIndex((_, i) => request.step >= starts[i] && request.step < starts[i + 1]);
            await replica.enterPhase(p, phases[p], request.step === starts[p], request.step === init.resumeStep ? init.optimizerState : null);
            const loss = request.shard.count > 0 ? replica.gradients(stepSubnets(init.space, phases[p], init.recipe, request.step), batch, request.shard, slot) : (slot.fill(0), 0);
            send({ type: 'gradients', step: request.step, loss });
          } else if (request.type === 'apply') {
            replica.apply(average, request.learningRate);
          } else {
            const flat = replica.flatWeights();
            send({ type: 'weights', step: request.step, weights: flat }, [flat.buffer as ArrayBuffer]);
          }
        } catch (error) {
          send({ type: 'error', message: (error as Error).stack ?? String(error) });
        }
      });
    });
    send({ type: 'ready', size: replica.size });
  } catch (error) {
    send({ type: 'error', message: (error as Error).stack ?? String(error) });
  }
}
