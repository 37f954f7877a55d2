/**
 * A training checkpoint: everything `trainCandidate` needs to continue a run
 * exactly where it stopped — the model's weights (BN statistics included),
 * the optimizer's state, the shuffle order and cursor, the random
 * generator's state and the losses so far. Written as one file (a JSON header
 * and float32/int32 blocks), atomically, so a kill never leaves half of one.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { writeFileAtomic } from '../space/candidate-files.js';
import { CodedError } from '../errors.js';

/** A checkpoint's file name in a model's directory (a finalized model's, a search candidate's). */
export const CHECKPOINT_FILE = 'checkpoint.bin';

/** Where the training loop stands: what the loop itself needs to go on. */
export interface LoopState {
  step: number;
  imagesSeen: number;
  /** Index of the next image in `order`. */
  cursor: number;
  order: Int32Array;
  /** seedrandom's state object (JSON-safe). */
  rngState: unknown;
  stepLosses: number[];
  /** Training seconds of every session so far. */
  trainSeconds: number;
}

/** A checkpoint in memory. */
export interface TrainingCheckpoint extends LoopState {
  /** Completed epochs (`imagesSeen` rounded down to whole epochs). */
  epoch: number;
  weights: Float32Array[];
  /** Optimizer state, tfjs order: iterations first, then its slots. */
  optimizer: Array<{ name: string; values: Float32Array; shape: number[]; dtype: 'float32' | 'int32' }>;
}

/** A file that is not a checkpoint, or one of another model. */
export class CheckpointError extends CodedError {
  readonly code = 'E_CHECKPOINT';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const headerSchema = z.strictObject({
  format: z.literal('nas-edge-checkpoint-1'),
  epoch: z.number().int().min(0),
  step: z.number().int().min(0),
  imagesSeen: z.number().int().min(0),
  cursor: z.number().int().min(0),
  orderLength: z.number().int().min(0),
  rngState: z.unknown(),
  stepLosses: z.array(z.number()),
  trainSeconds: z.number().min(0),
  weights: z.array(z.array(z.number().int().min(0))),
  optimizer: z.array(z.strictObject({ name: z.string(), shape: z.array(z.number().int()), dtype: z.enum(['float32', 'int32']) })),
});

/** Reads weights and optimizer state out of tfjs. */
export async function captureCheckpoint(model: LayersModel, optimizer: tf.Optimizer, loop: LoopState, epoch: number): Promise<TrainingCheckpoint> {
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  return checkpointOf(weights, optimizer, loop, epoch);
}

/** A checkpoint of `weights` (copies, in the model's own order), the optimizer's state and the loop's: any model, a supernet too. */
export async function checkpointOf(weights: Float32Array[], optimizer: tf.Optimizer, loop: LoopState, epoch: number): Promise<TrainingCheckpoint> {
  const named = await optimizer.getWeights();
  const state = named.map((w) => ({
    name: w.name,
    shape: w.tensor.shape,
    dtype: (w.tensor.dtype === 'int32' ? 'int32' : 'float32') as 'float32' | 'int32',
    values: Float32Array.from(w.tensor.dataSync() as ArrayLike<number>),
  }));
  named[0]?.tensor.dispose(); // the iterations scalar is a fresh tensor; the slots are the optimizer's own
  return { ...loop, order: Int32Array.from(loop.order), stepLosses: [...loop.stepLosses], epoch, weights, optimizer: state };
}

/** Puts weights and optimizer state back; the model must have the checkpoint's shapes. */
export async function restoreCheckpoint(model: LayersModel, optimizer: tf.Optimizer, checkpoint: TrainingCheckpoint, source = 'checkpoint'): Promise<void> {
  const current = model.getWeights();
  if (current.length !== checkpoint.weights.length || current.some((w, i) => w.size !== checkpoint.weights[i].length)) {
    throw new CheckpointError(source, `holds ${checkpoint.weights.length} weight tensors that do not fit this model's ${current.length}`);
  }
  model.setWeights(current.map((w, i) => tf.tensor(checkpoint.weights[i], w.shape)));
  await optimizer.setWeights(checkpoint.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) })));
}

/** Serialises a checkpoint: u32 header length, JSON header, then the float32 and int32 blocks. */
export function encodeCheckpoint(c: TrainingCheckpoint): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      format: 'nas-edge-checkpoint-1',
      epoch: c.epoch,
      step: c.step,
      imagesSeen: c.imagesSeen,
      cursor: c.cursor,
      orderLength: c.order.length,
      rngState: c.rngState,
      stepLosses: c.stepLosses,
      trainSeconds: c.trainSeconds,
      weights: c.weights.map((w) => [w.length]),
      optimizer: c.optimizer.map(({ name, shape, dtype }) => ({ name, shape, dtype })),
    }),
  );
  const padded = Math.ceil((4 + header.length) / 4) * 4;
  const floats = c.weights.reduce((n, w) => n + w.length, 0) + c.optimizer.reduce((n, w) => n + w.values.length, 0);
  const out = new Uint8Array(padded + 4 * (floats + c.order.length));
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let offset = padded;
  for (const block of [...c.weights, ...c.optimizer.map((w) => w.values)]) {
    out.set(new Uint8Array(block.buffer, block.byteOffset, block.byteLength), offset);
    offset += block.byteLength;
  }
  out.set(new Uint8Array(c.order.buffer, c.order.byteOffset, c.order.byteLength), offset);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): TrainingCheckpoint {
  if (bytes.length < 4) throw new CheckpointError(source, 'too short to be a checkpoint');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let header: z.infer<typeof headerSchema>;
  try {
    header = headerSchema.parse(JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length))));
  } catch (error) {
    throw new CheckpointError(source, `not a nas-edge checkpoint (${(error as Error).message.split('\n')[0]})`);
  }
  const padded = Math.ceil((4 + length) / 4) * 4;
  const sizes = [...header.weights.map(([n]) => n), ...header.optimizer.map((w) => w.shape.reduce((a, b) => a * b, 1))];
  const expected = padded + 4 * (sizes.reduce((a, b) => a + b, 0) + header.orderLength);
  if (bytes.length !== expected) throw new CheckpointError(source, `is ${bytes.length} bytes, its header says ${expected}: truncated or damaged`);
  // A fresh, aligned copy: `bytes` may be a view at any offset into a larger buffer (a Node
  // Buffer from base64 or a file), and Buffer#slice would return a view, not a copy.
  const copy = new Uint8Array(bytes.length - padded);
  copy.set(bytes.subarray(padded));
  let offset = 0;
  const take = (n: number) => {
    const block = new Float32Array(copy.buffer, offset, n).slice();
    offset += 4 * n;
    return block;
  };
  const weights = header.weights.map(([n]) => take(n));
  const optimizer = header.optimizer.map((w) => ({ ...w, values: take(w.shape.reduce((a, b) => a * b, 1)) }));
  const order = new Int32Array(copy.buffer, offset, header.orderLength).slice();
  const { epoch, step, imagesSeen, cursor, rngState, stepLosses, trainSeconds } = header;
  return { epoch, step, imagesSeen, cursor, order, rngState, stepLosses, trainSeconds, weights, optimizer };
}

export function writeCheckpoint(path: string, checkpoint: TrainingCheckpoint): void {
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
}

/** The checkpoint at `path`, or null when there is none. */
export function readCheckpoint(path: string): TrainingCheckpoint | null {
  if (!existsSync(path)) return null;
  return decodeCheckpoint(new Uint8Array(readFileSync(path)), path);
}
