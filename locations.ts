/**
 * Where nas-edge reads and writes: the package's own folder (read-only files
 * shipped with it, its version), the user's cache directory and the default
 * results directory.
 *
 * It is a leaf: it imports nothing from the project, so every stage (space/,
 * train/, benchmarks/, search/, compress/, cli/) may use it without depending
 * on another stage. It sits at the package root, beside the library's
 * `index.ts`, because it describes the package rather than one pipeline stage;
 * paths that belong to a stage (the bundled data sample in train/paths.ts)
 * stay in that stage and build on `packageRoot()`.
 *
 * The package folder may be `node_modules/nas-edge` (read-only for a user, and
 * replaced on every install), so nothing is written there: runs go under the
 * current directory and caches to the user's cache directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable that overrides the cache directory. */
export const CACHE_DIR_ENV = 'NAS_CACHE_DIR';

/** The directory name under the user's cache directory. */
export const CACHE_DIR_NAME = 'nas-edge';

/** The directory, under the current directory, that runs write to by default. */
export const RESULTS_DIR_NAME = 'results';

/**
 * The package root: the nearest ancestor of this file with a package.json.
 * Holds both from the TypeScript sources and from the built dist/, in a
 * checkout and in `node_modules`.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** The package's name and version, read from its package.json. */
export function packageInfo(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}

/**
 * The cache directory (teacher logits, …): `$NAS_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/nas-edge` (an absolute XDG_CACHE_HOME only, as the XDG
 * spec says), else the platform's user cache directory: `~/Library/Caches/nas-edge`
 * on macOS, `%LOCALAPPDATA%\nas-edge\cache` on Windows, `~/.cache/nas-edge` elsewhere.
 * Pure in its arguments, so tests can pass their own environment.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  const override = env[CACHE_DIR_ENV];
  if (override) return resolve(override);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, CACHE_DIR_NAME);
  if (platform === 'darwin') return join(home, 'Library', 'Caches', CACHE_DIR_NAME);
  if (platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, CACHE_DIR_NAME, 'cache');
  return join(home, '.cache', CACHE_DIR_NAME);
}

/** Where runs go when no directory is given: `results/` under `cwd` (the current directory). */
export function defaultResultsDir(cwd: string = process.cwd()): string {
  return join(cwd, RESULTS_DIR_NAME);
}

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
