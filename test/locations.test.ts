import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultResultsDir, packageRoot, userCacheDir } from '../locations.js';
import { runSearch } from '../search/engine.js';
import { resolveSearchConfig } from '../search/config.js';
import { embeddedSampleDir } from '../train/paths.js';

describe('where nas-edge writes', () => {
  const home = '/home/ada';

  it('the cache: $NAS_CACHE_DIR, else an absolute $XDG_CACHE_HOME, else the platform’s user cache', () => {
    expect(userCacheDir({ NAS_CACHE_DIR: '/tmp/c', XDG_CACHE_HOME: '/x' }, 'linux', home)).toBe('/tmp/c');
    expect(userCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux', home)).toBe('/x/nas-edge');
    // The XDG spec: a relative path is invalid and ignored.
    expect(userCacheDir({ XDG_CACHE_HOME: 'rel' }, 'linux', home)).toBe('/home/ada/.cache/nas-edge');
    expect(userCacheDir({}, 'linux', home)).toBe('/home/ada/.cache/nas-edge');
    expect(userCacheDir({}, 'darwin', home)).toBe('/home/ada/Library/Caches/nas-edge');
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local' }, 'win32', home)).toContain('nas-edge');
    expect(userCacheDir({ NAS_CACHE_DIR: 'relative/cache' }, 'linux', home)).toBe(join(process.cwd(), 'relative/cache'));
  });

  it('tests never touch the user’s cache: the setup file points it at a temp dir', () => {
    expect(userCacheDir().startsWith(join(tmpdir(), 'nas-test-cache-'))).toBe(true);
  });

  it('a search without a directory writes results/<name> under the current directory, not the package', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cwd-'));
    const before = process.cwd();
    process.chdir(cwd);
    try {
      expect(defaultResultsDir()).toBe(join(process.cwd(), 'results'));
      const config = resolveSearchConfig({ name: 'here', evaluator: 'proxy', searcher: { algorithm: 'random', population: 3 }, budget: { generations: 1 } });
      const result = await runSearch(config);
      expect(realpathSync(result.runDir)).toBe(join(realpathSync(cwd), 'results', 'here'));
      expect(result.records).toHaveLength(3);
    } finally {
      process.chdir(before);
    }
    expect(existsSync(join(packageRoot(), 'results', 'here'))).toBe(false);
  });

  it('the bundled data sample is still read from the package', () => {
    expect(embeddedSampleDir()).toBe(join(packageRoot(), 'train', 'data', 'fashion-mnist-sample'));
  });
});
