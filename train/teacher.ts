/**
 * The teacher whose logits distillation imitates: the user's own ONNX
 * classifier run with onnxruntime-node, or a wide network from the search
 * space trained here. Its logits over the full training split are computed
 * once and cached on disk, keyed by a hash of the data and the teacher, so a
 * changed dataset or teacher never reuses stale logits.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { userCacheDir } from '../locations.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { genomeId } from '../space/genome.js';
import type { PreparedData } from './datasets/prepared.js';
import { onnxTeacher } from './onnx-teacher.js';
import { TeacherError, type TeacherEpoch, type TeacherResult, type TeacherSpec } from './teacher-types.js';
import { trainedTeacher } from './trained-teacher.js';

export { TeacherError, type TeacherEpoch, type TeacherResult, type TeacherSpec } from './teacher-types.js';

/**
 * Where teacher logits are cached: `teacher/` in the user's cache directory
 * (`userCacheDir` in locations.ts), never the package's folder, which may be
 * a read-only `node_modules`.
 */
function teacherCacheDir(): string {
  return join(userCacheDir(), 'teacher');
}

/** The two files of one cache entry: metadata (JSON) and logits (raw float32). Other machines receive exactly these. */
export function teacherCacheFiles(key: string): { meta: string; logits: string } {
  return { meta: join(teacherCacheDir(), `${key}.json`), logits: join(teacherCacheDir(), `${key}.f32`) };
}

/** Cache key: the data's fingerprint and everything that identifies the teacher. */
export function teacherKey(data: PreparedData, spec: TeacherSpec): string {
  const hash = createHash('sha256').update(`data:${data.fingerprint};classes:${data.numClasses};`);
  if (spec.kind === 'onnx') {
    hash.update(`onnx:${spec.inputScale ?? 'standardised'}:${spec.layout ?? 'auto'}:`);
    hash.update(readFileSync(spec.path));
  } else {
    hash.update(`trained:${genomeId(spec.genome)}:${JSON.stringify(spec.strides)}:${spec.epochs}:${spec.seed}`);
    // Absent for one thread, so the keys of teachers trained before threads existed still hold.
    if ((spec.threads ?? 1) > 1) hash.update(`:threads:${spec.threads}`);
  }
  return hash.digest('hex').slice(0, 20);
}

const cacheMetaSchema = z.object({
  key: z.string(),
  count: z.number().int(),
  classes: z.number().int(),
  testAccuracy: z.number(),
  description: z.string(),
  // Absent in entries written before training time was recorded: they stay valid.
  trainSeconds: z.number().min(0).nullable().default(null),
  trainedOn: z.string().nullable().default(null),
  validationCurve: z.array(z.number().min(0).max(1)).nullable().default(null),
});

/** What the cache says of a teacher, without its logits: for reports (report.html's header). */
export type TeacherMeta = z.infer<typeof cacheMetaSchema>;

/** The cache entry's metadata by key, or null when absent or unreadable; the logits are not read. */
export function readTeacherMeta(key: string): TeacherMeta | null {
  const { meta } = teacherCacheFiles(key);
  if (!existsSync(meta)) return null;
  try {
    const parsed = cacheMetaSchema.safeParse(JSON.parse(readFileSync(meta, 'utf8')));
    return parsed.success && parsed.data.key === key ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Cached logits by key, or null when absent or damaged. */
export function readCachedTeacher(key: string): TeacherResult | null {
  const { meta, logits: bin } = teacherCacheFiles(key);
  if (!existsSync(meta) || !existsSync(bin)) return null;
  const parsed = cacheMetaSchema.safeParse(JSON.parse(readFileSync(meta, 'utf8')));
  const bytes = readFileSync(bin);
  if (!parsed.success || parsed.data.key !== key || bytes.length !== parsed.data.count * parsed.data.classes * 4) return null;
  const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { ...parsed.data, logits, fromCache: true };
}

let lastUsed: { key: string; teacher: TeacherResult } | null = null;

/**
 * Cached logits that must be there (a training worker's teacher), kept in
 * memory for the next call with the same key: a worker trains many models
 * with one teacher and should read its logits once.
 */
export function requireCachedTeacher(key: string): TeacherResult {
  if (lastUsed?.key !== key) {
    const teacher = readCachedTeacher(key);
    if (!teacher) throw new TeacherError(`teacher logits ${key} are not in the cache (${teacherCacheFiles(key).logits})`);
    lastUsed = { key, teacher };
  }
  return lastUsed.teacher;
}

function writeCache(result: TeacherResult, count: number): void {
  const files = teacherCacheFiles(result.key);
  mkdirSync(teacherCacheDir(), { recursive: true });
  writeFileAtomic(files.logits, new Uint8Array(result.logits.buffer, result.logits.byteOffset, result.logits.byteLength));
  const { key, classes, testAccuracy, description, trainSeconds, trainedOn, validationCurve } = result;
  writeFileAtomic(files.meta, JSON.stringify({ key, count, classes, testAccuracy, description, trainSeconds, trainedOn, validationCurve }, null, 2));
}

/**
 * Logits of `spec` over `data.fullTrain()`, from the cache when they are there,
 * else computed and cached. Also measures the teacher's test accuracy.
 */
export async function teacherLogits(
  data: PreparedData,
  spec: TeacherSpec,
  onProgress?: (done: number, total: number) => void,
  onEpoch?: (epoch: TeacherEpoch) => void,
): Promise<TeacherResult> {
  if (spec.kind === 'onnx' && !existsSync(spec.path)) throw new TeacherError(`${spec.path}: teacher model not found`);
  const key = teacherKey(data, spec);
  const cached = readCachedTeacher(key);
  if (cached) return cached;
  // A trained teacher checkpoints each epoch beside the cache entry it will become, its validation curve beside that.
  const checkpoint = join(teacherCacheDir(), `${key}.ckpt`);
  const curve = join(teacherCacheDir(), `${key}.curve.json`);
  if (spec.kind === 'trained') mkdirSync(teacherCacheDir(), { recursive: true });
  const computed = spec.kind === 'onnx' ? await onnxTeacher(data, spec, onProgress) : await trainedTeacher(data, spec, { onProgress, onEpoch, checkpointPath: checkpoint, curvePath: curve });
  const result: TeacherResult = { ...computed, key, fromCache: false };
  writeCache(result, data.fullTrain().count);
  rmSync(checkpoint, { force: true });
  rmSync(curve, { force: true });
  return result;
}
