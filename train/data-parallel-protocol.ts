/**
 * Messages between the main thread of data-parallel training
 * (data-parallel.ts) and its worker threads (data-parallel-worker.ts). Bulk
 * data never travels in messages: the batch, the per-replica gradients and
 * their average sit in SharedArrayBuffers that both sides view. Types only.
 */
import type { BackendName } from './backend.js';
import type { OptimizerState, ReplicaOptions, Shard } from './data-parallel-replica.js';

/** The buffers every replica shares, as SharedArrayBuffers. */
export interface SharedBuffers {
  /** float32 images of one batch, NHWC. */
  images: SharedArrayBuffer;
  /** int32 labels of the batch. */
  labels: SharedArrayBuffer;
  /** float32 teacher logits of the batch, or null without distillation. */
  teacher: SharedArrayBuffer | null;
  /** float32, one slot of `size` floats per replica (replica 0 is the main thread). */
  gradients: SharedArrayBuffer;
  /** float32, `size` floats: the weighted average every replica applies. */
  average: SharedArrayBuffer;
  /** int32: [0] the step the main thread filled the buffers for; [1 + i] the step worker i last answered. */
  sequence: SharedArrayBuffer;
}

/** A worker's `workerData`. */
export interface ReplicaInit {
  /** Replica index, 1 … threads − 1: its gradient slot. */
  index: number;
  backend: BackendName;
  /** The model's topology (LayersModel#toJSON(null, false)). */
  topology: object;
  /** Every weight of the main model (BN statistics included), getWeights() order. */
  weights: Float32Array[];
  /** A resumed run's optimizer state; null for a fresh optimizer. */
  optimizerState: OptimizerState | null;
  options: ReplicaOptions;
  shape: { height: number; width: number; channels: number; numClasses: number };
  buffers: SharedBuffers;
}

export type ReplicaRequest =
  | { type: 'step'; step: number; shard: Shard }
  | { type: 'apply'; step: number; learningRate: number }
  | { type: 'weights'; step: number };

export type ReplicaReply =
  | { type: 'ready'; size: number }
  | { type: 'gradients'; step: number; loss: number }
  | { type: 'weights'; step: number; weights: Float32Array }
  | { type: 'error'; message: string };
