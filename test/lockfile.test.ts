import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../locations.js';

/**
 * `npm ci` refuses a lock file that lacks an entry for any optional dependency of a
 * locked package, even one for another platform. The registry this project is built
 * against does not serve some platform builds (msgpackr-extract's darwin, win32 and
 * linux-arm packages, pulled in by BullMQ), so `npm install` silently drops their
 * entries and the next clean `npm ci` (CI, a user's clone) fails before any test runs.
 * This test catches that on the machine that changed the lock file.
 */
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(join(packageRoot(), 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { optionalDependencies?: Record<string, string> }>;
  };

  it('has an entry for every optional dependency of every locked package (npm ci needs them)', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm resolves a dependency from the package's own node_modules outwards.
        const candidates: string[] = [];
        let base = path;
        for (;;) {
          candidates.push(base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`);
          const cut = base.lastIndexOf('/node_modules/');
          if (base === '') break;
          base = cut < 0 ? '' : base.slice(0, cut);
        }
        if (!candidates.some((candidate) => candidate in lock.packages)) {
          missing.push(`${name} (optional dependency of ${path || 'the project'})`);
        }
      }
    }
    expect(missing, 'add these to package-lock.json as optional entries with their os/cpu').toEqual([]);
  });
});

/**
 * train/kernels reaches into @tensorflow/tfjs-backend-wasm's internals (its heap,
 * dataIdMap, makeOutput), which no semver range promises to keep. A caret range
 * would let a user's install pick a newer minor release than the one tested here.
 */
describe('package.json', () => {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const lock = JSON.parse(readFileSync(join(packageRoot(), 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const sections = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  const tensorflow = sections.flatMap((section) =>
    Object.entries(manifest[section] ?? {})
      .filter(([name]) => name.startsWith('@tensorflow/'))
      .map(([name, range]) => ({ section, name, range })),
  );

  it('pins every @tensorflow/* package to one exact version, the one package-lock.json installs', () => {
    expect(tensorflow.length).toBeGreaterThan(0);
    const loose = tensorflow.filter(({ range }) => !/^\d+\.\d+\.\d+$/.test(range)).map(({ section, name, range }) => `${section}.${name}: "${range}"`);
    expect(loose, 'write the exact version, e.g. "4.22.0", not a range').toEqual([]);
    const drifted = tensorflow
      .filter(({ name, range }) => lock.packages[`node_modules/${name}`]?.version !== range)
      .map(({ name, range }) => `${name}: package.json ${range}, package-lock.json ${lock.packages[`node_modules/${name}`]?.version}`);
    expect(drifted, 'run npm install so the lock file follows package.json').toEqual([]);
  });
});
