/**
 * Locations the package needs at run time, found from this file's own place
 * so they hold both from the TypeScript sources and from the built dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest ancestor with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** The Fashion-MNIST sample committed with the package (IDX, gzipped). */
export function embeddedSampleDir(): string {
  return join(packageRoot(), 'train', 'data', 'fashion-mnist-sample');
}

/** Where Debian's `dataset-fashion-mnist` package installs the full set. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * A built JavaScript file given relative to a module's own `import.meta.url`:
 * Piscina and BullMQ load worker entries as JavaScript, so from the
 * TypeScript sources (tests) the same relative path is taken under dist/.
 */
export function builtFile(moduleUrl: string, relativePath: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const root = packageRoot();
  const dir = fileURLToPath(moduleUrl).endsWith('.ts') ? join(root, 'dist', relative(root, here)) : here;
  const file = resolve(dir, relativePath);
  if (!existsSync(file)) throw new Error(`${file} not found: run 'npm run build' first`);
  return file;
}
