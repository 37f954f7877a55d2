import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelInput } from '../../compress/calibration-data.js';
import { onnxAccuracy } from '../../compress/onnx-eval.js';
import { decodeModel } from '../../onnx/model.js';
import { untrainedBaselineOnnx } from '../../finalize/challengers.js';
import { planFinalization } from '../../finalize/finalize-run.js';
import { FINALIZED_COLUMNS } from '../../finalize/report.js';
import { escapeHtml } from '../../search/report-page.js';
import { selectChallengers } from '../../finalize/select.js';
import { baseline } from '../../space/baselines.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { runSetting } from '../../search/config-helpers.js';
import { readRun } from '../../search/run-directory.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { planNetwork } from '../../space/plan.js';
import { randomWeights } from '../../space/random-weights.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData } from '../../train/datasets/prepared.js';
import { onnxFullCheck, TEST_SPACE } from '../helpers.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
// Small budgets: 2 epochs on 256 images, the best front member and the plain CNN.
const args = ['--epochs', '2', '--subset', '256', '--top', '1', '--baselines', 'plain-cnn', '--workers', '2', '--latency-time', '100'];
let root: string;
let run: string;

function finalize(dir: string, ...extra: string[]) {
  return spawnSync(process.execPath, [cli, 'finalize', dir, ...args, ...extra], { encoding: 'utf8', env: process.env });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'finalize-'));
  process.env.NAS_CACHE_DIR = join(root, 'cache');
  // A fixed ONNX teacher: its logits are computed in seconds, and KD runs on them.
  const teacherGenome = { resolution: 28, stemWidth: 8, headWidth: 32, stages: [{ width: 8, activation: 'relu6' as const, squeezeExcite: false, blocks: [{ kernel: 3 as const, expand: 1 }] }] };
  const plan = planNetwork(teacherGenome, { stem: 2, stages: [2] }, { numClasses: 10, inputChannels: 1 });
  writeFileSync(join(root, 'teacher.onnx'), buildOnnxModel(plan, randomWeights(plan)));
  run = join(root, 'run');
  await runSearch(
    resolveSearchConfig({ seed: 3, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 128, subset: 300, batchSize: 32 }, teacher: { onnx: join(root, 'teacher.onnx') }, latency: { iterations: 20, time: 50 }, workers: 1 }),
    { runDir: run },
  );
});

describe('nas finalize on a short search', () => {
  it('the run directory reader checks config.json\'s hash and parses pareto.csv', () => {
    const r = readRun(run);
    expect(r.front.length).toBeGreaterThan(0);
    expect(r.front[0].frontDir).toBe(`front/${r.front[0].id}`);
    expect(r.teacherKey).toMatch(/^[0-9a-f]{20}$/);
    const edited = join(root, 'edited');
    cpSync(run, edited, { recursive: true });
    const config = JSON.parse(readFileSync(join(edited, 'config.json'), 'utf8'));
    config.config.seed = 4;
    writeFileSync(join(edited, 'config.json'), JSON.stringify(config));
    expect(() => readRun(edited)).toThrow(/config\.json: configHash does not match/);
    writeFileSync(join(edited, 'pareto.csv'), 'id,accuracy\nnot-an-id,0.5\n');
    writeFileSync(join(edited, 'config.json'), readFileSync(join(run, 'config.json')));
    expect(() => readRun(edited)).toThrow(/pareto\.csv: row 1: id: expected a 12-hex-digit genome id/);
  });

  it('plans each baseline\'s challenger from one interleaved measurement of the front and the untrained baselines, writing nothing', async () => {
    const read = readRun(run);
    const r = { ...read, ...runSetting(read.config) };
    const plan = await planFinalization(r, { baselines: ['plain-cnn', 'mobilenetv2-x0.35'], epochs: 2, latencyTime: 100, latencyIterations: 10 });
    expect(existsSync(join(run, 'final'))).toBe(false);
    const measured = plan.challengers!;
    expect(measured.front.map((p) => p.id).sort()).toEqual(r.front.map((p) => p.id).sort());
    expect(measured.baselines.map((b) => b.name)).toEqual(['plain-cnn', 'mobilenetv2-x0.35']);
    for (const p of [...measured.front, ...measured.baselines]) expect(p.latency).toBeGreaterThan(0);
    // The recorded choice follows from the recorded measurement, and every challenger is planned, saying so.
    expect(measured.challengers).toEqual(selectChallengers(measured.front, measured.baselines, 0.05));
    for (const c of measured.challengers) {
      if (!c.challenger) continue;
      const m = plan.models.find((x) => x.id === c.challenger!.id);
      expect(m?.kind === 'front' ? m.selectedAs : undefined).toContain(`challenger of ${c.baseline}`);
    }
    expect(plan.models.filter((m) => m.kind === 'baseline').map((m) => m.id)).toEqual(['plain-cnn', 'mobilenetv2-x0.35']);
    // --top K takes exactly K; no challengers without baselines or when declined.
    const top = await planFinalization(r, { top: 1, baselines: ['plain-cnn'] });
    expect(top.challengers).toBeUndefined();
    expect(top.models.map((m) => (m.kind === 'front' ? m.selectedAs : m.kind))).toEqual([['top 1'], 'baseline']);
    expect((await planFinalization(r, { baselines: false })).challengers).toBeUndefined();
    // --ids: exactly the members named, no challengers; an id off the front, or both ways at once, is refused by name.
    const picked = await planFinalization(r, { ids: [r.front[0].id], baselines: ['plain-cnn'] });
    expect(picked.challengers).toBeUndefined();
    expect(picked.models.map((m) => (m.kind === 'front' ? [m.id, m.selectedAs] : m.kind))).toEqual([[r.front[0].id, ['chosen by id']], 'baseline']);
    await expect(planFinalization(r, { ids: ['0123456789ab'] })).rejects.toThrow(/--ids: 0123456789ab is not a front member of .* with files \(the front: [0-9a-f]{12}/);
    await expect(planFinalization(r, { ids: [r.front[0].id], top: 1 })).rejects.toThrow(/--top and --ids: choose front members one way/);
    const badId = spawnSync(process.execPath, [cli, 'finalize', run, '--ids', 'zz'], { encoding: 'utf8', env: process.env });
    expect(badId.status).toBe(2);
    expect(badId.stderr).toMatch(/--ids: 'zz' is not a genome id \(12 hex digits/);
    expect((await planFinalization(r, { baselines: ['plain-cnn'], challengers: false })).challengers).toBeUndefined();

    const dry = spawnSync(process.execPath, [cli, 'finalize', run, '--dry-run', '--baselines', 'plain-cnn', '--latency-time', '100'], { encoding: 'utf8', env: process.env });
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/plain-cnn \([\d.]+ ms untrained\): (challenger front [0-9a-f]{12} \([\d.]+% in the search, [\d.]+ ms\)|no front member is as fast)/);
    expect(dry.stdout).toMatch(/^front [0-9a-f]{12}: best of a latency third or the knee/m);
    expect(dry.stdout).toMatch(/^plain-cnn: baseline$/m);
    expect(dry.stdout).toMatch(/nothing was trained or written/);
    expect(existsSync(join(run, 'final'))).toBe(false);
    // A dry run whose teacher logits the cache lost says so, and computes nothing into the cache.
    const emptyCache = join(root, 'empty-cache');
    mkdirSync(emptyCache);
    const lost = spawnSync(process.execPath, [cli, 'finalize', run, '--dry-run', '--top', '1', '--no-baselines'], { encoding: 'utf8', env: { ...process.env, NAS_CACHE_DIR: emptyCache } });
    expect(lost.status, lost.stderr).toBe(0);
    expect(lost.stderr).toMatch(/teacher logits [0-9a-f]{20} are not in the cache: finalize will compute them again before training/);
    expect(lost.stdout).toMatch(/KD α 0\.9/);
    expect(readdirSync(emptyCache)).toEqual([]);
    const both = spawnSync(process.execPath, [cli, 'finalize', run, '--dry-run', '--resume'], { encoding: 'utf8', env: process.env });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--dry-run: plans a new finalization; --resume continues/);
  }, 120_000);

  it('writes finalized.csv, the plot, summary.md and final/<id>/; SIGKILL then --resume ends with the same weights', async () => {
    const whole = join(root, 'whole');
    const killed = join(root, 'killed');
    cpSync(run, whole, { recursive: true });
    cpSync(run, killed, { recursive: true });

    const full = finalize(whole);
    expect(full.status, full.stderr).toBe(0);
    expect(full.stderr).toMatch(/plain-cnn: epoch 1\/2 loss [\d.]+ validation [\d.]+% elapsed \S+ ETA \S+/); // not a TTY: one line per epoch
    expect(full.stdout).toMatch(/plain-cnn \([\d.]+%, [\d.]+ ms\) is dominated by|SEARCH FAILED against plain-cnn/);

    // finalized.csv: the columns, one front member, the baseline, the teacher.
    const rows = parse(readFileSync(join(whole, 'finalized.csv')), { columns: true, cast: true }) as Array<Record<string, string | number>>;
    expect(Object.keys(rows[0])).toEqual([...FINALIZED_COLUMNS]);
    expect(rows.map((r) => r.kind)).toEqual(['front', 'baseline', 'teacher']);
    expect(rows[2].train_seconds).toBe(''); // an ONNX teacher: not trained here
    expect(rows.map((r) => r.selected_as)).toEqual(['top 1', '', '']);
    const data = prepareData(loadDataset('fashion-mnist-sample'));
    for (const r of rows.slice(0, 2)) {
      expect(Number(r.test_accuracy_low)).toBeLessThanOrEqual(Number(r.test_accuracy));
      expect(Number(r.test_accuracy_high)).toBeGreaterThanOrEqual(Number(r.test_accuracy));
      expect(r.test_images).toBe(1000);
      expect(Number(r.latency_p50_ms)).toBeGreaterThan(0);
      expect(Number(r.latency_p90_ms)).toBeGreaterThanOrEqual(Number(r.latency_p50_ms));
      expect(r.epochs).toBe(2);
      // The deployed ONNX file, run by onnxruntime over the test split, scores what training measured with tfjs.
      const onnx = join(whole, String(r.files), 'model.onnx');
      onnxFullCheck(readFileSync(onnx));
      const bytes = readFileSync(onnx);
      const accuracy = await onnxAccuracy(bytes, data.test, modelInput(bytes, onnx).plan, data);
      expect(accuracy.state === 'measured' ? accuracy.accuracy : Number.NaN).toBeCloseTo(Number(r.test_accuracy), 2);
      expect(existsSync(join(whole, String(r.files), 'model.json'))).toBe(true);
    }
    expect(existsSync(join(whole, 'final', String(rows[0].id), 'genome.json'))).toBe(true);
    expect(existsSync(join(whole, 'final', 'plain-cnn', 'baseline.json'))).toBe(true);
    // The untrained baseline that challengers are measured against is the trained one's graph: the same nodes and initializer shapes.
    const graphOf = (bytes: Uint8Array) => {
      const g = decodeModel(bytes, 'model').graph!;
      return { nodes: g.node!.map((n) => `${n.opType}:${n.input!.length}`), initializers: g.initializer!.map((t) => `${t.name}:${(t.dims ?? []).join('x')}`) };
    };
    const untrained = untrainedBaselineOnnx(baseline('plain-cnn', 28), { numClasses: 10, inputChannels: 1 });
    onnxFullCheck(untrained);
    expect(graphOf(untrained)).toEqual(graphOf(readFileSync(join(whole, 'final', 'plain-cnn', 'model.onnx'))));
    expect(readFileSync(join(whole, 'finalized.svg'), 'utf8')).toMatch(/^<svg[\s\S]*hand-designed baseline[\s\S]*front \(finalized\)[\s\S]*<\/svg>\s*$/);
    const summary = readFileSync(join(whole, 'summary.md'), 'utf8');
    expect(summary).toMatch(/^# Search summary[\s\S]*## Finalized models[\s\S]*\| plain-cnn \| baseline \|/);
    expect(summary).toMatch(/\| front [0-9a-f]{12} \|[^\n]*\| top 1 \|\n/); // why it was finalized
    // report.html is rewritten with the verdict finalize printed, as finalized.csv holds it.
    const report = readFileSync(join(whole, 'report.html'), 'utf8');
    expect(report).toContain('<h2>Final models</h2>');
    expect(report).toContain(`>${escapeHtml(String(rows[1].verdict))}</li>`);
    expect(full.stdout).toContain(String(rows[1].verdict));

    // The same finalization killed once a checkpoint exists, then resumed.
    mkdirSync(join(killed, 'final'), { recursive: true });
    const child = spawn(process.execPath, [cli, 'finalize', killed, ...args], { stdio: 'ignore', env: process.env });
    const checkpoints = () => readdirSync(join(killed, 'final')).filter((id) => existsSync(join(killed, 'final', id, 'checkpoint.bin')));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(join(killed, 'final')) && checkpoints().length) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('finalize finished before it could be killed'));
      });
    });
    await new Promise((resolve) => child.on('exit', resolve));
    expect(existsSync(join(killed, 'finalized.csv'))).toBe(false);

    const again = finalize(killed);
    expect(again.status).not.toBe(0); // plan.json exists: it must be resumed, not restarted
    expect(again.stderr).toMatch(/plan\.json exists: continue with --resume/);
    const resumed = finalize(killed, '--resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from epoch 1/);
    for (const id of readdirSync(join(whole, 'final')).filter((d) => d !== 'plan.json')) {
      const bytes = (dir: string) => readFileSync(join(dir, 'final', id, 'weights.bin'));
      expect(Buffer.compare(bytes(killed), bytes(whole)), `final/${id}/weights.bin`).toBe(0);
      const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'final', id, 'record.json'), 'utf8'));
      expect(record(killed).validationCurve).toEqual(record(whole).validationCurve);
      expect(record(killed).testAccuracy).toBe(record(whole).testAccuracy);
    }
  }, 900_000);
});
