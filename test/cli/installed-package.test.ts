/**
 * The package as a user gets it: `npm pack`, `npm install` of the tarball
 * into a fresh project (as the README's Install section says), then `nas`
 * through npm's bin link from another directory, and the library imported by
 * its name. Dependencies come from npm's cache (`npm ci` filled it); nothing
 * else is downloaded.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
};

/**
 * The environment of a user's shell: without the `npm_*` variables of the
 * `npm test` that may be running us (among them this checkout's
 * `.npmrc` setting that skips onnxruntime-node's download), plus the one
 * variable the README tells users to set.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  return { ...env, ONNXRUNTIME_NODE_INSTALL: 'skip', ...extra };
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: userEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The first `lang` code block under the README's "Using it from code" heading. */
function readmeExample(lang: 'js' | 'ts'): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it from code'));
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!block) throw new Error(`README.md: no \`\`\`${lang} block under "## Using it from code"`);
  return block[1];
}

let root: string;
let project: string;
let installed: string;
let bin: string;
let elsewhere: string;

/** Runs the installed `nas` from `elsewhere`, as a user would from their shell. */
function nas(args: string[], env: Record<string, string> = {}) {
  return spawnSync(bin, args, { cwd: elsewhere, env: userEnv(env), encoding: 'utf8' });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'nas-installed-'));
  // Packed from a copy, so `prepare` (clean + build) never rewrites this checkout's dist/
  // while other test files run from it.
  const source = join(root, 'source');
  const generated = new Set(['node_modules', 'dist', 'results', '.git', '.cache', 'scratch', 'dist-scratch']);
  cpSync(repo, source, { recursive: true, filter: (path) => !generated.has(relative(repo, path).split(sep)[0]) });
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'), 'dir');
  npm(['pack', '--pack-destination', root], source);
  const tarball = join(root, `${manifest.name}-${manifest.version}.tgz`);
  project = join(root, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // As the README says: the tarball (or the registry's nas-edge) and seedrandom for the example.
  npm(['install', tarball, 'seedrandom', '--prefer-offline', '--omit=optional'], project);
  installed = join(project, 'node_modules', manifest.name);
  bin = join(project, 'node_modules', '.bin', 'nas');
  elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
}, 300_000);

describe('nas installed by npm', () => {
  it('runs through the bin link from another directory: --version is package.json’s', () => {
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    const result = nas(['--version']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(manifest.version);
  });

  it('space sample prints the same two genomes as the checkout’s CLI', () => {
    const result = nas(['space', 'sample', '--n', '2', '--seed', '1']);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/^[0-9a-f]{12}\s+\d+ params\s+[\d.]+ MMACs\s+r\d+/);
    const fromCheckout = execFileSync(process.execPath, [join(repo, 'dist', 'cli', 'bin.js'), 'space', 'sample', '--n', '2', '--seed', '1'], { encoding: 'utf8' });
    expect(result.stdout).toBe(fromCheckout);
  });

  it('a search writes its run under the current directory, and nothing into node_modules', () => {
    const config = { name: 'installed-run', seed: 3, evaluator: 'proxy', searcher: { algorithm: 'random', population: 4 }, budget: { generations: 1 } };
    writeFileSync(join(elsewhere, 'search.json'), JSON.stringify(config));
    const cache = join(root, 'xdg-cache');
    const result = nas(['search', '--config', 'search.json'], { XDG_CACHE_HOME: cache });
    expect(result.status, result.stderr).toBe(0);
    const run = join(elsewhere, 'results', 'installed-run');
    expect(result.stdout).toContain(run);
    const pareto = readFileSync(join(run, 'pareto.csv'), 'utf8').trim().split('\n');
    expect(pareto[0]).toMatch(/^id,/);
    expect(pareto.length).toBeGreaterThan(1);
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'package.json', 'train']);
  });

  it('ships the built library, its types and the data sample, not tests, sources, maps or bench scripts', () => {
    const files = listFiles(installed).map((f) => relative(installed, f));
    expect(files).toContain('train/data/fashion-mnist-sample/train-images-idx3-ubyte.gz');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((f) => /\.map$|^test\/|\.ts$(?<!\.d\.ts)|^dist\/bench\/|\/bench-[^/]*$/.test(f))).toEqual([]);
    for (const entry of Object.keys(manifest.exports).filter((e) => e !== './package.json')) {
      const target = (manifest.exports[entry] as { types: string; default: string });
      expect(files, entry).toContain(target.default.slice(2));
      expect(files, entry).toContain(target.types.slice(2));
    }
  });

  it('every package the shipped code imports is a dependency (devDependencies are not installed for users)', () => {
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.optionalDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const file of listFiles(join(installed, 'dist')).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(file, 'utf8');
      // Static imports and re-exports at the start of a line, and dynamic import('…'); not WAT text such as (import "env" …).
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
        ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
      ];
      for (const [, specifier] of specifiers) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
        if (!declared.has(name)) undeclared.add(`${name} (${relative(installed, file)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });
});

describe('nas-edge imported by its name', () => {
  it('the README example runs: its genome is the first of `nas space sample --seed 1`, with a measured latency', () => {
    writeFileSync(join(project, 'example.mjs'), readmeExample('js'));
    const result = spawnSync(process.execPath, ['example.mjs'], { cwd: project, env: userEnv(), encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const [id, params, macs, latency] = result.stdout.trim().split(/\s+/);
    const first = nas(['space', 'sample', '--n', '1', '--seed', '1']).stdout.trim().split(/\s+/);
    expect([id, params]).toEqual([first[0], first[1]]);
    expect(Number(macs) / 1e6).toBeCloseTo(Number(first[3]), 2);
    expect(Number(latency)).toBeGreaterThan(0);
  });

  it('each subpath offers its entry points, and the types resolve for TypeScript', () => {
    const check = `
      import * as root from 'nas-edge';
      import * as space from 'nas-edge/space';
      import * as train from 'nas-edge/train';
      import * as benchmarks from 'nas-edge/benchmarks';
      import * as search from 'nas-edge/search';
      import * as compress from 'nas-edge/compress';
      import * as finalize from 'nas-edge/finalize';
      const names = { root, space, train, benchmarks, search, compress, finalize };
      console.log(JSON.stringify(Object.fromEntries(Object.entries(names).map(([k, m]) => [k, Object.keys(m).sort()]))));
      const config = search.resolveSearchConfig({ evaluator: 'proxy', budget: { generations: 2 } });
      console.log(JSON.stringify({ algorithm: config.searcher.algorithm, generations: config.budget.generations }));
    `;
    writeFileSync(join(project, 'entry-points.mjs'), check);
    const result = spawnSync(process.execPath, ['entry-points.mjs'], { cwd: project, env: userEnv(), encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    const [namesLine, configLine] = result.stdout.trim().split('\n');
    const names = JSON.parse(namesLine) as Record<string, string[]>;
    expect(names.root).toEqual(expect.arrayContaining(['runSearch', 'measureModel', 'quantizeModel', 'MobileNetSpace', 'loadDataset', 'trainCandidate']));
    expect(names.space).toEqual(expect.arrayContaining(['MobileNetSpace', 'sampleGenome', 'planNetwork', 'buildOnnxModel']));
    expect(names.train).toEqual(expect.arrayContaining(['loadDataset', 'prepareData', 'trainCandidate', 'teacherLogits']));
    expect(names.benchmarks).toEqual(expect.arrayContaining(['measureModel', 'compareModels', 'benchmarkModels', 'LatencyPool']));
    expect(names.search).toEqual(expect.arrayContaining(['runSearch', 'resumeSearch', 'readRun', 'runSetting', 'searchConfigSchema', 'resolveSearchConfig', 'PRESETS']));
    expect(names.compress).toEqual(expect.arrayContaining(['quantizeModel', 'compressRun']));
    expect(names.finalize).toEqual(expect.arrayContaining(['finalizeRun', 'planFinalization', 'writeFinalizeReport']));
    expect(JSON.parse(configLine)).toEqual({ algorithm: 'nsga2', generations: 2 });

    // A TypeScript user: the README's search example type-checks through `exports`, and a misuse is caught.
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['use.ts'] }));
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    writeFileSync(join(project, 'use.ts'), readmeExample('ts'));
    const good = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(good.status, good.stdout + good.stderr).toBe(0);
    // The later stages take the run from the caller: what readRun reads (with its setting) is what they accept.
    writeFileSync(
      join(project, 'use.ts'),
      "import { readRun, runSetting } from 'nas-edge/search';\nimport { finalizeRun } from 'nas-edge/finalize';\nimport { compressRun } from 'nas-edge/compress';\n" +
        "const run = readRun('results/run');\nconst setting = runSetting(run.config);\nexport const finalized = finalizeRun({ ...run, ...setting }, { top: 1 });\nexport const compressed = compressRun({ ...run, dataset: setting.dataset });\n",
    );
    const handDown = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(handDown.status, handDown.stdout + handDown.stderr).toBe(0);
    writeFileSync(join(project, 'use.ts'), "import { resolveSearchConfig } from 'nas-edge/search';\nexport const s: string = resolveSearchConfig({}).seed;\n");
    const bad = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(bad.stdout).toMatch(/use\.ts.*Type 'number' is not assignable to type 'string'/);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

