/**
 * Worker thread of data-parallel training (data-parallel.ts): builds a
 * replica of the model from its topology and the main thread's weights, then
 * answers the main thread's messages in order — `step` (gradients of its
 * shard into its slot of the shared gradient buffer), `apply` (the averaged
 * gradient from the shared buffer), `weights` (its trainable weights, to
 * check the replicas agree). Each worker has its own tfjs backend.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization } from '../space/fused-batch-norm.js';
import { selectBackend } from './backend.js';
import { Replica } from './data-parallel-replica.js';
import type { ReplicaInit, ReplicaReply, ReplicaRequest } from './data-parallel-protocol.js';

const init = workerData as ReplicaInit;
const port = parentPort!;

async function start(): Promise<Replica> {
  await selectBackend(init.backend);
  // The topology names the stock class; in this thread it deserialises to the fused one, as the main model has.
  tf.serialization.SerializationMap.register(FusedBatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  const model = await tfl.models.modelFromJSON({ modelTopology: init.topology } as tf.io.ModelJSON);
  const replica = new Replica(model, init.options);
  await replica.load(init.weights, init.optimizerState);
  return replica;
}

const send = (reply: ReplicaReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

try {
  const replica = await start();
  const { buffers } = init;
  const batch = {
    images: new Float32Array(buffers.images),
    labels: new Int32Array(buffers.labels),
    teacher: buffers.teacher ? new Float32Array(buffers.teacher) : null,
    ...init.shape,
  };
  const gradients = new Float32Array(buffers.gradients, init.index * replica.size * 4, replica.size);
  const average = new Float32Array(buffers.average);
  const sequence = new Int32Array(buffers.sequence);
  port.on('message', (request: ReplicaRequest) => {
    try {
      // The main thread stores the step before posting: loading it orders this thread's reads after its writes.
      const stored = Atomics.load(sequence, 0);
      if (stored < request.step || (request.type === 'step' && stored !== request.step)) throw new Error(`out of step: asked for step ${request.step}, the buffers hold step ${stored}`);
      if (request.type === 'step') {
        const loss = replica.gradients(batch, request.shard, gradients);
        Atomics.store(sequence, 1 + init.index, request.step);
        send({ type: 'gradients', step: request.step, loss });
      } else if (request.type === 'apply') {
        replica.apply(average, request.learningRate);
      } else {
        const weights = replica.flatWeights();
        send({ type: 'weights', step: request.step, weights }, [weights.buffer as ArrayBuffer]);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  });
  send({ type: 'ready', size: replica.size });
} catch (error) {
  send({ type: 'error', message: (error as Error).stack ?? String(error) });
}
