/**
 * Trained supernets on disk, like the teacher's logits: one directory per
 * supernet under `supernet/` in the user's cache, keyed by a hash of the
 * data's content, the narrowed space, the recipe and the teacher, so a
 * changed input never reuses stale weights and a search names its supernet
 * by key. A directory holds `supernet.json` (what it is, its training curve,
 * wall time and machine), `supernet.bin` (the weights, in checkpoint.ts's
 * format) once finished, and `checkpoint.bin` + `epochs.json` while training.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CodedError } from '../errors.js';
import { userCacheDir } from '../locations.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { searchSpaceSchema } from '../space/schema.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import type { SupernetRecipe } from './supernet-train.js';

/** A supernet file that is missing, damaged or of other data. */
export class SupernetError extends CodedError {
  readonly code = 'E_SUPERNET';
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** The recipe as files and flags carry it; tied to {@link SupernetRecipe}. */
export const supernetRecipeSchema = z.strictObject({
  strategy: z.enum(['sandwich', 'progressive']),
  epochs: z.number().positive().max(10_000),
  batchSize: z.number().int().positive().max(65_536),
  learningRate: z.number().positive(),
  weightDecay: z.number().min(0),
  randomSubnets: z.number().int().min(0).max(64),
  augment: z.boolean(),
  distillation: z.strictObject({ temperature: z.number().positive(), alpha: z.number().min(0).max(1) }),
  warmupEpochs: z.number().min(0),
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  kernelTransform: z.boolean().optional(),
});
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const recipeMatches: Same<z.infer<typeof supernetRecipeSchema>, SupernetRecipe> = true;
void recipeMatches;

const epochSchema = z.strictObject({
  epoch: z.number().int().min(1),
  phase: z.string(),
  loss: z.number(),
  trainSeconds: z.number().min(0),
  /** Validation accuracy of the largest and the smallest subnet after the epoch (BN recomputed). */
  largest: z.number().min(0).max(1),
  smallest: z.number().min(0).max(1),
});
/** One epoch of a supernet's training as its curve records it. */
export type SupernetCurvePoint = z.infer<typeof epochSchema>;

export const supernetMetaSchema = z.strictObject({
  format: z.literal('nas-edge-supernet-1'),
  key: z.string().regex(/^[0-9a-f]{20}$/),
  /** The narrowed space: every genome of it is a subnet. */
  space: searchSpaceSchema,
  /** What narrowing the searched space took (space/supernet.ts). */
  narrowed: z.array(z.strictObject({ field: z.string(), from: z.array(z.unknown()), to: z.array(z.unknown()) })),
  data: z.strictObject({
    name: z.string(),
    fingerprint: z.string(),
    numClasses: z.number().int().positive(),
    inputChannels: z.number().int().positive(),
    trainImages: z.number().int().positive(),
    /** The split the supernet trained beside: a search scores its subnets on this validation split, never on images the supernet trained on. */
    // Defaults: what prepareData does when not told, as supernets trained before these were recorded were split.
    validationFraction: z.number().gt(0).lt(1).default(0.1),
    splitSeed: z.number().int().default(0),
  }),
  recipe: supernetRecipeSchema,
  teacherKey: z.string().nullable(),
  curve: z.array(epochSchema),
  trainSeconds: z.number().min(0),
  /** CPU model and threads the training ran on. */
  trainedOn: z.string(),
  params: z.number().int().positive(),
  finishedAt: z.string(),
});
/** What supernet.json holds. */
export type SupernetMeta = z.infer<typeof supernetMetaSchema>;

/** Where supernets are cached: `supernet/` in the user's cache directory. */
export function supernetCacheDir(): string {
  return join(userCacheDir(), 'supernet');
}

/** The files of one cached supernet. */
export function supernetFiles(key: string): { dir: string; meta: string; weights: string; checkpoint: string; epochs: string } {
  const dir = join(supernetCacheDir(), key);
  return { dir, meta: join(dir, 'supernet.json'), weights: join(dir, 'supernet.bin'), checkpoint: join(dir, 'checkpoint.bin'), epochs: join(dir, 'epochs.json') };
}

/** Cache key: everything that decides the trained weights. */
export function supernetKey(parts: { dataFingerprint: string; numClasses: number; inputChannels: number; space: unknown; recipe: SupernetRecipe; teacherKey: string | null }): string {
  return createHash('sha256').update(JSON.stringify(['supernet-1', parts.dataFingerprint, parts.numClasses, parts.inputChannels, parts.space, parts.recipe, parts.teacherKey])).digest('hex').slice(0, 20);
}

/** A cached supernet: its description and weights (layer by layer in planWeightShapes order). */
export interface CachedSupernet {
  meta: SupernetMeta;
  weights: Float32Array[];
}

/** The supernet.json at `file`, validated; errors name the file and field. */
export function readSupernetMeta(file: string): SupernetMeta {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SupernetError(file, `cannot be read as JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const parsed = supernetMetaSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SupernetError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The finished supernet of `key`, or null when there is none (a training may be under way). */
export function readSupernet(key: string): CachedSupernet | null {
  const files = supernetFiles(key);
  if (!existsSync(files.meta) || !existsSync(files.weights)) return null;
  const meta = readSupernetMeta(files.meta);
  if (meta.key !== key) throw new SupernetError(files.meta, `key: is ${meta.key}, its directory says ${key}`);
  return { meta, weights: decodeCheckpoint(new Uint8Array(readFileSync(files.weights)), files.weights).weights };
}

/** The finished supernet of `key`; a clear error when it is not in this machine's cache. */
export function requireSupernet(key: string): CachedSupernet {
  const supernet = readSupernet(key);
  if (!supernet) throw new SupernetError(supernetFiles(key).weights, `supernet ${key} is not in the cache (train it with nas supernet train; nas supernet lists the cached ones)`);
  return supernet;
}

/** Writes a finished supernet: weights first, supernet.json last (a directory with it is complete). */
export function writeSupernet(meta: SupernetMeta, weights: Float32Array[]): void {
  const files = supernetFiles(meta.key);
  mkdirSync(files.dir, { recursive: true });
  const empty = { step: 0, imagesSeen: 0, cursor: 0, order: new Int32Array(0), rngState: null, stepLosses: [], trainSeconds: meta.trainSeconds, epoch: 0, optimizer: [] };
  writeFileAtomic(files.weights, encodeCheckpoint({ ...empty, weights }));
  writeFileAtomic(files.meta, JSON.stringify(meta, null, 2) + '\n');
}

/** The curve of a training under way (epochs.json), validated; [] when there is none. */
export function readEpochs(key: string): SupernetCurvePoint[] {
  const file = supernetFiles(key).epochs;
  if (!existsSync(file)) return [];
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SupernetError(file, `cannot be read as JSON (${(error as Error).message.split('\n')[0]}); --fresh starts the supernet over`);
  }
  const parsed = z.array(epochSchema).safeParse(value);
  if (!parsed.success) throw new SupernetError(file, `${parsed.error.issues[0].path.join('.') || '(root)'}: ${parsed.error.issues[0].message}; --fresh starts the supernet over`);
  return parsed.data;
}

export function writeEpochs(key: string, epochs: SupernetCurvePoint[]): void {
  const files = supernetFiles(key);
  mkdirSync(files.dir, { recursive: true });
  writeFileAtomic(files.epochs, JSON.stringify(epochs, null, 1) + '\n');
}

/** Every cache entry: finished ones with their description, unfinished ones with the epochs done so far and the step their checkpoint holds. */
export function listSupernets(): Array<{ key: string; meta: SupernetMeta | null; epochsDone: number; checkpointStep?: number; problem?: string }> {
  const root = supernetCacheDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[0-9a-f]{20}$/.test(d.name))
    .map((d) => {
      const files = supernetFiles(d.name);
      try {
        const meta = existsSync(files.meta) && existsSync(files.weights) ? readSupernetMeta(files.meta) : null;
        if (meta) return { key: d.name, meta, epochsDone: meta.curve.length };
        // Checkpoints are written inside epochs too, so the step says how far an unfinished training got, and the epochs done are the checkpoint's
        // (a curve can lack a point: before EpochEnd.number, a resumed training could drop one).
        const checkpoint = existsSync(files.checkpoint) ? decodeCheckpoint(new Uint8Array(readFileSync(files.checkpoint)), files.checkpoint) : undefined;
        return { key: d.name, meta, epochsDone: checkpoint?.epoch ?? readEpochs(d.name).length, ...(checkpoint === undefined ? {} : { checkpointStep: checkpoint.step }) };
      } catch (error) {
        return { key: d.name, meta: null, epochsDone: 0, problem: (error as Error).message };
      }
    });
}
