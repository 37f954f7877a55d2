/**
 * Piscina pools whose threads import() their task module instead of
 * require()ing it: see piscina-entry.cts for the crash this avoids. Every pool
 * of the package is made here, with the options Piscina takes otherwise.
 */
import { Piscina } from 'piscina';
import { pathToFileURL } from 'node:url';
import { builtFile } from './locations.js';

type PoolOptions = Omit<NonNullable<ConstructorParameters<typeof Piscina>[0]>, 'filename' | 'workerData'>;

/** A Piscina pool running `taskFile`'s default export (a built .js path), loaded by import(). */
export function workerPool(taskFile: string, options: PoolOptions): Piscina {
  return new Piscina({ ...options, filename: builtFile(import.meta.url, 'piscina-entry.cjs'), workerData: { entry: pathToFileURL(taskFile).href } });
}
