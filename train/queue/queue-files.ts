/**
 * A trained model's files on their way back from a worker, for every kind
 * of job: inline in the result (base64, within a byte limit) or written to a
 * directory every machine mounts (`--shared-dir`) with their sha256, which
 * the coordinator checks before it keeps them. The names a result may carry
 * are fixed by the job's kind; nothing read from a result becomes a path.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../space/candidate-files.js';
import { sha256 } from './queue-runs.js';
import { QueueError } from './redis-url.js';

/** Files by name, as training produced them. */
export type FilesByName = Record<string, Uint8Array>;

/** The schema of sent files whose names are `names`, of which `required` must all be there. */
export function sentFilesSchema(names: readonly [string, ...string[]], required: readonly string[]) {
  const record = <T extends z.ZodType>(value: T) =>
    z.partialRecord(z.enum(names), value).superRefine((files, ctx) => {
      const missing = required.find((name) => (files as Record<string, unknown>)[name] === undefined);
      if (missing) ctx.addIssue({ code: 'custom', message: `lacks ${missing}` });
    });
  return z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('inline'), base64: record(z.string()) }),
    z.strictObject({ kind: z.literal('shared'), sha256: record(z.string().regex(/^[0-9a-f]{64}$/)) }),
  ]);
}

/** Files as they travel: see the file comment. */
export type SentFiles = { kind: 'inline'; base64: Partial<Record<string, string>> } | { kind: 'shared'; sha256: Partial<Record<string, string>> };

/**
 * Worker side: `names` of `files` inline (within `maxBytes`) or written to
 * `sharedDir` (the job's own directory there) with their sha256.
 * `what` names the job's subject in the error; `coordinator` says who must
 * be given the same --shared-dir.
 */
export function sendFiles(files: FilesByName, names: readonly string[], where: { sharedDir?: string; maxBytes: number; what: string; coordinator: string }): SentFiles {
  if (where.sharedDir) {
    mkdirSync(where.sharedDir, { recursive: true });
    for (const name of names) writeFileAtomic(join(where.sharedDir, name), files[name]);
    return { kind: 'shared', sha256: Object.fromEntries(names.map((n) => [n, sha256(files[n])])) };
  }
  const total = names.reduce((sum, n) => sum + files[n].byteLength, 0);
  if (total > where.maxBytes) {
    throw new QueueError(
      `${where.what}: its files are ${(total / 2 ** 20).toFixed(1)} MiB, over the ${(where.maxBytes / 2 ** 20).toFixed(1)} MiB a result may carry through Redis; ` +
        `give the workers and the ${where.coordinator} a shared directory with --shared-dir, or raise --max-result-mib`,
    );
  }
  return { kind: 'inline', base64: Object.fromEntries(names.map((n) => [n, Buffer.from(files[n]).toString('base64')])) };
}

/**
 * Coordinator side: the files of a validated result, from the result itself
 * (at most `maxBytes`) or from `sharedDir` (the job's own directory there,
 * each file's sha256 checked); null `sharedDir` when the coordinator was
 * given none.
 */
export function receiveFiles(sent: SentFiles, where: { source: string; sharedDir: string | null; maxBytes: number; coordinator: string }): FilesByName {
  const files: FilesByName = {};
  if (sent.kind === 'inline') {
    let total = 0;
    for (const [name, text] of Object.entries(sent.base64)) {
      if (text === undefined) continue;
      files[name] = Buffer.from(text, 'base64');
      total += files[name].byteLength;
    }
    if (total > where.maxBytes) throw new QueueError(`${where.source}: result carries ${total} bytes, over the limit of ${where.maxBytes}`);
    return files;
  }
  if (!where.sharedDir) throw new QueueError(`${where.source}: the worker wrote its files to its --shared-dir; give the ${where.coordinator} the same directory with --shared-dir`);
  for (const [name, hash] of Object.entries(sent.sha256)) {
    if (hash === undefined) continue;
    const file = join(where.sharedDir, name);
    if (!existsSync(file)) throw new QueueError(`${where.source}: ${file} is not there: is --shared-dir the directory the workers write to?`);
    files[name] = readFileSync(file);
    if (sha256(files[name]) !== hash) throw new QueueError(`${where.source}: ${file} does not have the content the worker wrote (sha256 differs)`);
  }
  return files;
}
