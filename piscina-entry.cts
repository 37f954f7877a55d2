/**
 * The file every Piscina pool of this package loads in its threads, and
 * CommonJS on purpose. Piscina require()s a task file before it tries
 * import(); on Node 20.19 and later that require() of our ES modules is
 * require(esm), which can abort the whole process (V8: "IsGraphAsync must be
 * used on an instantiated module") when it meets a module graph that an
 * import() in the same thread is still loading. A full test run under load hit
 * it once (a `nas worker` of test/search/queue-failures.test.ts). require() of
 * this file is plain CommonJS, and the real task file, named in Piscina's
 * workerData by worker-pool.ts, is only ever import()ed.
 */
import { workerData } from 'piscina';

type Handler = (task: unknown) => unknown;
let handler: Promise<Handler> | null = null;

function load(): Promise<Handler> {
  const entry = (workerData as { entry?: unknown } | undefined)?.entry;
  if (typeof entry !== 'string') throw new Error('piscina-entry: workerData.entry must name the task module (worker-pool.ts sets it)');
  return import(entry).then((m: { default?: unknown }) => {
    if (typeof m.default !== 'function') throw new Error(`piscina-entry: ${entry} has no default export function`);
    return m.default as Handler;
  });
}

export = async function run(task: unknown): Promise<unknown> {
  handler ??= load();
  return (await handler)(task);
};
