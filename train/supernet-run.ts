/**
 * One supernet from the cache, trained first if it is not there: the key,
 * a checkpoint and the curve written at every epoch's end, refusal to
 * restart silently over an interrupted training (`resume` continues it to the
 * same weights an uninterrupted run reaches, `fresh` discards it), and the
 * finished supernet written to the cache with what it cost and where.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { flatWeightSource, supernetPlan, type SupernetSpace } from '../space/supernet.js';
import { planCost, planNetwork } from '../space/plan.js';
import { stridesOf } from '../space/supernet.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import type { PreparedData } from './datasets/prepared.js';
import type { TeacherLogits } from './training-loop.js';
import { SupernetError, readEpochs, readSupernet, supernetFiles, supernetKey, writeEpochs, writeSupernet, type CachedSupernet, type SupernetCurvePoint } from './supernet-cache.js';
import { scoreSubnet } from './supernet-score.js';
import { trainSupernet, type SupernetRecipe } from './supernet-train.js';
import type { TrainOptions } from './types.js';

export interface SupernetRunOptions {
  /** The data's name, for the record. */
  dataName: string;
  /** How `data` was split (prepareData's options): recorded, so that a search scores on the same validation split. */
  split: { validationFraction: number; seed: number };
  /** The teacher's cache key and logits, or null. */
  teacher: { key: string; logits: TeacherLogits } | null;
  /** Continue an interrupted training of the same supernet. */
  resume?: boolean;
  /** Discard an interrupted training and start over. */
  fresh?: boolean;
  onProgress?: TrainOptions['onProgress'];
  onEpoch?: (point: SupernetCurvePoint, of: number) => void;
  /** Data-parallel threads; more than one is part of the key (batch norm sees shards). @default 1 */
  threads?: number;
  /** Minutes between checkpoints inside an epoch (not part of the key: a resume reaches the same weights). @default 10 */
  checkpointMinutes?: number;
}

/** The key a supernet of these inputs has (what `nas search --supernet` names). */
export function keyOf(space: SupernetSpace, data: PreparedData, recipe: SupernetRecipe, teacherKey: string | null, threads = 1): string {
  // A training subset keeps the data's fingerprint: the images trained on are part of the key.
  const trained = createHash('sha256').update(new Uint8Array(data.trainIndices.buffer, data.trainIndices.byteOffset, data.trainIndices.byteLength)).digest('hex').slice(0, 16);
  // One thread adds nothing, so keys of supernets trained before threads existed still hold.
  const fingerprint = `${data.fingerprint}:${trained}${threads > 1 ? `:threads:${threads}` : ''}`;
  return supernetKey({ dataFingerprint: fingerprint, numClasses: data.numClasses, inputChannels: data.train.channels, space: space.config, recipe, teacherKey });
}

/** The cached supernet, or a new one trained and cached; see the file comment. */
export async function supernetFor(space: SupernetSpace, data: PreparedData, recipe: SupernetRecipe, o: SupernetRunOptions): Promise<CachedSupernet & { fromCache: boolean }> {
  const threads = o.threads ?? 1;
  const key = keyOf(space, data, recipe, o.teacher?.key ?? null, threads);
  const cached = readSupernet(key);
  if (cached) return { ...cached, fromCache: true };
  const files = supernetFiles(key);
  if (o.fresh) rmSync(files.dir, { recursive: true, force: true });
  const checkpoint = readCheckpoint(files.checkpoint);
  if (checkpoint && !o.resume) {
    throw new SupernetError(
      files.checkpoint,
      `a training of this supernet stopped at step ${checkpoint.step} (${checkpoint.epoch} of ${recipe.epochs} epochs done); --resume continues it, --fresh starts over`,
    );
  }
  mkdirSync(files.dir, { recursive: true });
  const dataShape = { numClasses: data.numClasses, inputChannels: data.train.channels };
  const splits = { bn: data.train, validation: data.validation, numClasses: data.numClasses };
  const plan = supernetPlan(space, dataShape);
  const smallestPlan = planNetwork(space.smallest, stridesOf(space.config), dataShape);
  // The curve up to the checkpoint: a run killed after writing epochs.json but before its checkpoint redoes that epoch.
  const curve = readEpochs(key).filter((p) => p.epoch <= (checkpoint?.epoch ?? 0));
  const result = await trainSupernet(space, data, o.teacher?.logits ?? null, recipe, {
    resumeFrom: checkpoint,
    threads,
    onProgress: o.onProgress,
    checkpointSeconds: 60 * (o.checkpointMinutes ?? 10),
    onCheckpoint: (c) => writeCheckpoint(files.checkpoint, c),
    onEpoch: async (c, e) => {
      const kt = recipe.kernelTransform ?? false;
      const source = flatWeightSource(plan, c.weights, kt);
      const [largest, smallest] = [await scoreSubnet(source, plan, splits, undefined, kt), await scoreSubnet(source, smallestPlan, splits, undefined, kt)];
      const point = { ...e, largest: largest.accuracy, smallest: smallest.accuracy };
      curve.push(point);
      writeCheckpoint(files.checkpoint, c);
      writeEpochs(key, curve);
      o.onEpoch?.(point, Math.ceil(recipe.epochs));
    },
  });
  const meta = {
    format: 'nas-edge-supernet-1' as const,
    key,
    space: space.config,
    narrowed: space.narrowed,
    data: { name: o.dataName, fingerprint: data.fingerprint, numClasses: data.numClasses, inputChannels: data.train.channels, trainImages: data.train.count, validationFraction: o.split.validationFraction, splitSeed: o.split.seed },
    recipe,
    teacherKey: o.teacher?.key ?? null,
    curve,
    trainSeconds: result.trainSeconds,
    trainedOn: `${cpus()[0]?.model?.trim() || 'unknown CPU'}, ${threads} thread${threads === 1 ? '' : 's'}`,
    params: planCost(plan).params,
    finishedAt: new Date().toISOString(),
  };
  writeSupernet(meta, result.weights);
  rmSync(files.checkpoint, { force: true });
  rmSync(files.epochs, { force: true });
  return { meta, weights: result.weights, fromCache: false };
}
