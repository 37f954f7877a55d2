import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithBaselines, type ScoredModel } from '../../finalize/dominance.js';
import { dominanceVerdict } from '../../finalize/report.js';
import { configHash, objectivesOf, resolveSearchConfig } from '../../search/config.js';
import { runSearch, type SearchResult } from '../../search/engine.js';
import { frontOf, referencePoint } from '../../search/objectives.js';
import { FRONT_GROUP, MARK_NAMES, OTHER_GROUP, reportPageData, type ReportPageInput } from '../../search/report-html.js';
import { escapeHtml, jsonForScript, renderReportHtml } from '../../search/report-page.js';
import { FINAL_MARKS } from '../../search/report-final.js';
import { VARIANT_MARKS } from '../../search/report-variants.js';
import { generationRows, readReportTable, refreshReportHtml, reportFromJournal } from '../../search/report.js';
import type { CandidateRecord } from '../../search/types.js';
import { teacherCacheFiles } from '../../train/teacher.js';

const CHROMIUM = '/usr/bin/chromium';
const config = resolveSearchConfig({ evaluator: 'proxy', seed: 11, searcher: { population: 8 }, budget: { generations: 4 }, constraints: { maxParams: 300_000 } });
let search: SearchResult;
let runDir: string;

beforeAll(async () => {
  runDir = join(mkdtempSync(join(tmpdir(), 'report-html-')), 'run');
  search = await runSearch(config, { runDir });
});

function pageInput(records: readonly CandidateRecord[], over: Partial<ReportPageInput> = {}): ReportPageInput {
  const front = frontOf(records, objectivesOf(config));
  return {
    runName: 'run',
    records,
    frontIds: new Set(front.map((r) => r.id)),
    objectives: objectivesOf(config),
    reference: referencePoint(config),
    generations: generationRows(records, config),
    facts: [],
    files: [],
    linkOf: (id, onFront) => (onFront ? `front/${id}/` : null),
    tables: [],
    teacher: null,
    ...over,
  };
}

describe('report page data (pure)', () => {
  it('one point per trained candidate, the front marked, links and tooltips from the records', async () => {
    const evaluated = search.records.filter((r) => r.state === 'evaluated');
    expect(search.records.length).toBeGreaterThan(evaluated.length); // rejected ones exist and are not plotted
    const page = await reportPageData(pageInput(search.records));
    expect(page.points.map((p) => p.id)).toEqual(evaluated.map((r) => r.id));
    const frontIds = new Set(search.front.map((r) => r.id));
    for (const p of page.points) {
      const record = evaluated.find((r) => r.id === p.id)!;
      expect(p.group).toBe(frontIds.has(p.id) ? FRONT_GROUP : OTHER_GROUP);
      expect(p.href).toBe(frontIds.has(p.id) ? `front/${p.id}/` : null);
      expect(p.accuracy).toBeCloseTo(record.accuracy * 100, 10);
      expect(p.latencyP50Ms).toBe(record.latency.p50);
      expect(p.tooltip.id).toBe(p.id);
      expect(p.tooltip.params).toBe(record.params.toLocaleString('en-US'));
      expect(p.tooltip.MACs).toBe(`${(record.macs / 1e6).toFixed(2)} M`);
      expect(p.tooltip.accuracy).toContain(`${(record.accuracy * 100).toFixed(2)}%`);
      expect(p.tooltip).not.toHaveProperty('rung');
    }
    expect(page.generations.map((g) => g.hypervolume)).toEqual(generationRows(search.records, config).map((g) => g.hypervolume));
  });

  it('a run ranked by log-likelihood: the tooltip shows it, the page says what ranked the front', async () => {
    const ranked = search.records.map((r, i) => (r.state === 'evaluated' ? { ...r, logLikelihood: -0.1 - i / 100 } : r));
    const page = await reportPageData(pageInput(ranked, { objectives: ['logLikelihood', 'latency'] }));
    for (const p of page.points) {
      const record = ranked.find((r) => r.id === p.id)! as { logLikelihood: number };
      expect(p.tooltip['log-likelihood']).toBe(record.logLikelihood.toFixed(4));
    }
    expect(page.facts.some((f) => f.startsWith('ranked by log-likelihood (rankBy)'))).toBe(true);
    // Ranked by accuracy: neither.
    const plain = await reportPageData(pageInput(search.records));
    expect(plain.points.every((p) => !('log-likelihood' in p.tooltip))).toBe(true);
    expect(plain.facts.some((f) => f.startsWith('ranked by log-likelihood'))).toBe(false);
  });

  it('shows a rung when a record carries one, and only then', async () => {
    const withRung = search.records.map((r, i) => (r.state === 'evaluated' && i % 2 === 0 ? { ...r, rung: i % 3 } : r));
    const page = await reportPageData(pageInput(withRung));
    for (const p of page.points) {
      const i = withRung.findIndex((r) => r.id === p.id);
      if (i % 2 === 0) {
        expect(p.rung).toBe(i % 3);
        expect(p.tooltip.rung).toBe(String(i % 3));
      } else {
        expect(p.rung).toBeNull();
        expect(p.tooltip).not.toHaveProperty('rung');
      }
    }
  });

  it('escapes names, ids and table cells: nothing from a run becomes markup or ends a script', async () => {
    const hostile = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const records = search.records.map((r, i) => (i === 0 ? { ...r, id: `${r.id}"'<b>` } : r));
    const page = await reportPageData(pageInput(records, {
      runName: hostile,
      facts: [hostile],
      tables: [{ state: 'present', file: 'finalized.csv', columns: ['name<i>', 'files'], rows: [[hostile, 'javascript:alert(3)'], ['ok', 'finalized/abc/']] }, { state: 'unreadable', file: 'compression.csv', error: hostile }],
    }));
    const html = renderReportHtml(page, '/* runtime */');
    expect(html.match(/<script/gi)).toHaveLength(3); // data, runtime, page script: no injected one
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<i>');
    expect(html).toContain(escapeHtml(hostile));
    expect(html).not.toContain('href="javascript:'); // only relative paths become links
    expect(html).toContain('<a href="finalized/abc/">finalized/abc/</a>');
    // The embedded JSON still parses back to the same charts.
    const json = html.match(/<script type="application\/json" id="report-data">([^<]*)<\/script>/)![1];
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ charts: page.charts })));
    expect(jsonForScript({ s: '</script>\u2028' })).toBe('{"s":"\\u003c/script>\\u2028"}');
  });

  it('reads another stage\'s table whatever its columns; absent is null, broken is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-table-'));
    expect(readReportTable(dir, 'finalized.csv')).toBeNull();
    writeFileSync(join(dir, 'finalized.csv'), 'id,kind,test accuracy,"interval, 95%"\nabc,front,0.85,"0.84–0.86"\n');
    expect(readReportTable(dir, 'finalized.csv')).toEqual({ state: 'present', file: 'finalized.csv', columns: ['id', 'kind', 'test accuracy', 'interval, 95%'], rows: [['abc', 'front', '0.85', '0.84–0.86']] });
    writeFileSync(join(dir, 'compression.csv'), 'id,variant\n"abc,fp32\n');
    const broken = readReportTable(dir, 'compression.csv');
    expect(broken?.state).toBe('unreadable');
    expect(broken?.state === 'unreadable' && broken.error).toMatch(/quote/i);
  });
});

/** Debian's chromium; CI installs it (.ci/run) and sets NAS_REQUIRE_BROWSER=1 so its absence fails there. */
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env.NAS_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
if (!hasChromium) console.warn(`${CHROMIUM} not found: the browser test of report.html is skipped (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('report.html in a real headless browser', () => {
  let browser: Browser;
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));

  beforeAll(async () => {
    // Stand-in files for the front members (the proxy evaluator trains nothing), so front/ links have a target.
    for (const r of search.front) {
      mkdirSync(join(runDir, 'candidates', r.id), { recursive: true });
      writeFileSync(join(runDir, 'candidates', r.id, 'genome.json'), JSON.stringify({ id: r.id }));
    }
    writeFileSync(join(runDir, 'compression.csv'), `id,variant,test_accuracy,latency_p50_ms,file\n${search.front[0].id},fp32,0.8123456,0.0912345678,compressed/${search.front[0].id}/model.onnx\n${search.front[0].id},int8,0.81,0.1,compressed/${search.front[0].id}/model.int8.onnx\n`);
    await reportFromJournal(runDir);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true, // puppeteer passes --headless
      userDataDir: profile,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('draws one mark per trained candidate, the front as in pareto.csv, hover shows the id, click opens its files; nothing fails or leaves file://', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 1000 });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('request', (r) => requests.push(r.url()));

    const url = pathToFileURL(join(runDir, 'report.html')).href;
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector(`g.${MARK_NAMES.front}_marks path`);
    await page.waitForSelector(`g.${MARK_NAMES.hypervolume}_marks path`);

    const evaluated = search.records.filter((r) => r.state === 'evaluated');
    const pareto = parse(readFileSync(join(runDir, 'pareto.csv')), { columns: true }) as Array<{ id: string }>;
    const countMarks = (name: string) => page.$$eval(`g.${name}_marks path[role="graphics-symbol"]`, (paths) => paths.length);
    expect((await countMarks(MARK_NAMES.front)) + (await countMarks(MARK_NAMES.other))).toBe(evaluated.length);
    expect(await countMarks(MARK_NAMES.front)).toBe(pareto.length);
    expect(await countMarks(MARK_NAMES.hypervolume)).toBe(4);
    // The same count through vega's own API: the scenegraph's items.
    const items = await page.evaluate((names) => {
      const view = (window as unknown as { nasReport: { views: Record<string, { scenegraph(): { root: unknown } }> } }).nasReport.views.pareto;
      const counts: Record<string, number> = {};
      const walk = (node: { marktype?: string; name?: string; items?: unknown[] }) => {
        if (node.name && names.includes(node.name)) counts[node.name] = node.items?.length ?? 0;
        for (const child of node.items ?? []) walk(child as typeof node);
      };
      walk(view.scenegraph().root as never);
      return counts;
    }, [`${MARK_NAMES.front}_marks`, `${MARK_NAMES.other}_marks`]);
    expect(items[`${MARK_NAMES.front}_marks`] + items[`${MARK_NAMES.other}_marks`]).toBe(evaluated.length);

    // The tables: compression.csv's rows and columns; no finalized.csv, so no such section.
    const compression = await page.$$eval('section[data-file="compression.csv"] tbody tr', (rows) => rows.length);
    expect(compression).toBe(2);
    expect(await page.$('section[data-file="finalized.csv"]')).toBeNull();
    expect(await page.$$eval('p.files a', (links) => links.map((a) => a.getAttribute('href')))).toEqual(['compression.csv', 'pareto.csv', 'candidates.csv', 'generations.csv', 'summary.md', 'pareto.svg', 'front/', 'config.json', 'journal.jsonl']);
    // This compression.csv lacks documented columns: the section says which, and shows the file as it is.
    expect(await page.$eval('#variants p.problem', (p) => p.textContent)).toBe('compression.csv row 1, column params: no such column');
    expect(await page.$eval('p.teacher', (p) => p.textContent)).toBe('Teacher: none (plain training, no distillation)');

    // Hover: the tooltip names the point under the mouse (its aria-label starts with its id).
    const target = `g.${MARK_NAMES.front}_marks path[role="graphics-symbol"]`;
    const label = await page.$eval(target, (p) => p.getAttribute('aria-label') ?? '');
    const id = pareto.map((p) => p.id).find((candidate) => label.includes(candidate))!;
    expect(id).toBeDefined();
    await page.hover(target);
    await page.waitForFunction(() => !document.getElementById('tooltip')!.hidden);
    const tooltip = await page.$eval('#tooltip', (t) => t.textContent ?? '');
    expect(tooltip).toContain(`id: ${id}`);
    expect(tooltip).toMatch(/accuracy: \d+\.\d\d% \(validation\)/);
    expect(tooltip).toMatch(/latency: \d+\.\d{4} ms p50/);
    expect(tooltip).toContain('params: ');
    expect(tooltip).toContain('MACs: ');
    expect(tooltip).toContain(`files: front/${id}/`);

    const shots = mkdtempSync(join(tmpdir(), 'report-shot-'));
    await page.screenshot({ path: join(shots, 'report.png'), fullPage: true });
    console.log(`screenshot: ${join(shots, 'report.png')}`);

    // Click: the browser follows the point's link to its front/ directory.
    await Promise.all([page.waitForNavigation(), page.click(target)]);
    expect(page.url()).toBe(new URL(`front/${id}/`, url).href);

    expect(problems).toEqual([]);
    // Only local URLs: the report and the directory it links to (data: URLs are the listing page's own icons).
    expect(requests.filter((r) => !r.startsWith('file://') && !r.startsWith('data:'))).toEqual([]);
    await page.close();
  });

  it('a finalized.csv written later shows as a table with its own columns, its text inert', async () => {
    const name = '<img src=x onerror="window.injected=1">&amp; "tiny"';
    const columns = ['id', 'kind', 'name', 'test accuracy', 'interval', 'latency p50 ms', 'latency p90 ms', 'params', 'MACs', 'epochs', 'wall time s'];
    const id = search.front[0].id;
    writeFileSync(join(runDir, 'finalized.csv'), `${columns.map((c) => `"${c}"`).join(',')}\n${id},front,"${name.replace(/"/g, '""')}",0.8712,0.864–0.878,0.0912,0.0987,120345,2600000,10,812.5\n`);
    await refreshReportHtml(runDir);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e}`));
    await page.goto(pathToFileURL(join(runDir, 'report.html')).href, { waitUntil: 'load' });
    await page.waitForSelector(`g.${MARK_NAMES.front}_marks path`);
    const table = await page.$eval('section[data-file="finalized.csv"] table', (t) => ({
      head: [...t.querySelectorAll('th')].map((th) => th.textContent),
      cells: [...t.querySelectorAll('tbody td')].map((td) => td.textContent),
    }));
    expect(table.head).toEqual(columns);
    expect(table.cells.slice(0, 4)).toEqual([id, 'front', name, '0.8712']);
    expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
    expect(await page.$('section[data-file="finalized.csv"] img')).toBeNull();
    expect(await page.$('section[data-file="compression.csv"]')).not.toBeNull();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a finalized and compressed run: the verdicts as finalized.csv states them, the final chart with every model and interval, figures for people, 1280 px wide', async () => {
    // The search's run, then finalize's and compress's files hand-written (test/fixtures/finalized-run/) with two front ids.
    const dir = join(mkdtempSync(join(tmpdir(), 'report-final-')), 'run');
    cpSync(runDir, dir, { recursive: true });
    const [a, b] = search.front.map((r) => r.id);
    const key = 'f00dfeed0123456789ab';
    const fixture = (file: string) => readFileSync(join(import.meta.dirname, '../fixtures/finalized-run', file), 'utf8').replace(/FRONT_A/g, a).replace(/FRONT_B/g, b).replace(/TEACHER_KEY/g, key);
    writeFileSync(join(dir, 'finalized.csv'), fixture('finalized.csv'));
    writeFileSync(join(dir, 'compression.csv'), fixture('compression.csv'));
    for (const id of [a, b, 'mobilenetv2-x0.35', 'plain-cnn', 'mobilenetv3-small']) {
      mkdirSync(join(dir, 'final', id), { recursive: true });
      writeFileSync(join(dir, 'final', id, 'record.json'), '{}');
    }
    // A teacher trained here: config.json says what, environment.json its cache key, the cache's metadata its accuracy and time.
    const saved = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { config: Record<string, unknown> };
    const withTeacher = resolveSearchConfig({ ...saved.config, teacher: { train: { epochs: 20, threads: 2, architecture: 'mobilenetv3-small' } } });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...saved, config: withTeacher, configHash: configHash(withTeacher) }));
    const env = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')) as { sessions: object[] };
    writeFileSync(join(dir, 'environment.json'), JSON.stringify({ sessions: [...env.sessions, { startedAt: new Date().toISOString(), teacherLogitsKey: key }] }));
    mkdirSync(join(teacherCacheFiles(key).meta, '..'), { recursive: true });
    writeFileSync(teacherCacheFiles(key).meta, fixture('teacher-meta.json'));
    await refreshReportHtml(dir);

    const finalized = parse(readFileSync(join(dir, 'finalized.csv')), { columns: true }) as Array<Record<string, string>>;
    const modelRows = finalized.filter((r) => r.kind !== 'teacher');
    const baselineRows = finalized.filter((r) => r.kind === 'baseline');
    // The fixture's verdicts are finalize's own: its rule and wording over the same figures.
    const scored = (r: Record<string, string>): ScoredModel => ({ id: r.id, name: r.name, accuracy: Number(r.test_accuracy), accuracyLow: Number(r.test_accuracy_low), accuracyHigh: Number(r.test_accuracy_high), latency: Number(r.latency_p50_ms) });
    const judged = compareWithBaselines(finalized.filter((r) => r.kind === 'front').map(scored), baselineRows.map(scored));
    expect(judged.map(dominanceVerdict)).toEqual(baselineRows.map((r) => r.verdict));
    expect(judged.map((d) => (d.state === 'dominated' ? d.by.id : ''))).toEqual(baselineRows.map((r) => r.dominated_by));

    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(join(dir, 'report.html')).href;
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector(`g.${FINAL_MARKS.points}_marks path`);
    await page.waitForSelector(`g.${VARIANT_MARKS.points}_marks path`);
    await page.waitForSelector(`g.${MARK_NAMES.front}_marks path`);

    // The teacher in the header: accuracy with its interval (finalized.csv), where it came from and its training time (cache).
    expect(await page.$eval('p.teacher', (p) => p.textContent)).toBe('Teacher: 93.1% test accuracy (95% interval 92.6–93.6% on 10,000 images); trained here: mobilenetv3-small, 20 epochs, in 1h52m on AMD EPYC 9B45, 2 threads');
    // "Final models" comes first, then the variants, then the search.
    expect(await page.$$eval('h2', (hs) => hs.map((h) => h.textContent))).toEqual(['Final models', 'Deployable variants', 'The search']);

    // One verdict per baseline, the sentence finalized.csv holds, marked by its outcome.
    const verdicts = await page.$$eval('li.verdict', (lis) => lis.map((li) => ({ text: li.textContent, cls: li.className })));
    expect(verdicts.map((v) => v.text)).toEqual(baselineRows.map((r) => r.verdict));
    expect(verdicts.map((v) => v.cls)).toEqual(baselineRows.map((r) => (r.dominated_by ? 'verdict dominated' : 'verdict failed')));
    expect(verdicts[0].text).toContain(`is dominated by ${a} (90.93%, 0.1672 ms: +0.40 points at 0.82× the latency)`);
    expect(verdicts[2].text).toMatch(/^SEARCH FAILED against mobilenetv3-small .* in the band latency ≤ 0\.2510 ms/);

    // The final chart's data: every finalized model and baseline with its interval (percent), and one mark each.
    const chartData = await page.evaluate((name) => (window as unknown as { nasReport: { views: Record<string, { data(n: string): unknown[] }> } }).nasReport.views.final.data(name), FINAL_MARKS.models) as Array<{ id: string; kind: string; accuracy: number; low: number; high: number; latencyP50Ms: number; dominatedBy: string | null }>;
    expect(chartData.map((m) => m.id)).toEqual(modelRows.map((r) => r.id));
    for (const [i, r] of modelRows.entries()) {
      expect(chartData[i].kind).toBe(r.kind);
      expect(chartData[i].accuracy).toBeCloseTo(Number(r.test_accuracy) * 100, 10);
      expect(chartData[i].low).toBeCloseTo(Number(r.test_accuracy_low) * 100, 10);
      expect(chartData[i].high).toBeCloseTo(Number(r.test_accuracy_high) * 100, 10);
      expect(chartData[i].latencyP50Ms).toBe(Number(r.latency_p50_ms));
      expect(chartData[i].dominatedBy ?? '').toBe(r.dominated_by);
    }
    const countMarks = (name: string) => page.$$eval(`g.${name}_marks > *`, (marks) => marks.length);
    expect(await countMarks(FINAL_MARKS.points)).toBe(modelRows.length);
    expect(await countMarks(FINAL_MARKS.intervals)).toBe(modelRows.length);
    expect(await countMarks(FINAL_MARKS.links)).toBe(baselineRows.filter((r) => r.dominated_by).length);
    expect(await countMarks(FINAL_MARKS.teacher)).toBe(1);
    // Variants: one point per compression.csv row, one path per front member.
    expect(await countMarks(VARIANT_MARKS.points)).toBe(8);
    expect(await countMarks(VARIANT_MARKS.paths)).toBe(2);

    // Tables for people: formatted figures where the CSV has fractions and bare numbers; the raw value on hover.
    const cells = (file: string) => page.$$eval(`table[data-file="${file}"] tbody tr`, (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((td) => ({ text: td.textContent, title: td.getAttribute('title') }))));
    const final = await cells('finalized.csv');
    expect(final).toHaveLength(finalized.length);
    expect(final[0].map((c) => c.text)).toEqual([a, 'front', '90.9% (90.4–91.5%)', '0.167 ms', '0.180 ms', '1.00×', '120k', '2.6M', '30', '31m33s', 'best of a latency third or the knee; challenger of mobilenetv2-x0.35; challenger of mobilenetv3-small']);
    expect(final[0][3].title).toBe('0.16723');
    expect(final[5].map((c) => c.text).slice(0, 3)).toEqual(['teacher', 'teacher', '93.1% (92.6–93.6%)']);
    expect(final[5][0].title).toBe(finalized[5].name);
    const variants = await cells('compression.csv');
    expect(variants[0].map((c) => c.text).slice(0, 5)).toEqual([a, 'fp32', '90.9%', '0.167 ms', '495 KB']);
    expect(variants[3].map((c) => c.text).slice(0, 5)).toEqual([a, 'pruned + INT8', '90.3% (−0.6 pt)', '0.0912 ms (0.55×)', '86.0 KB (0.17×)']);
    expect(variants[4][4].text).toBe('1.21 MB');
    expect(variants[3][8].text).toBe('pruned/model.int8.onnx');
    const allCells = [...final, ...variants].flat().map((c) => c.text);
    expect(allCells.filter((t) => /^-?\d*\.\d+$/.test(t ?? ''))).toEqual([]); // no bare fraction or unitless decimal left
    // Variant labels: size ratio and accuracy change against fp32.
    const labels = await page.evaluate((name) => (window as unknown as { nasReport: { views: Record<string, { data(n: string): Array<{ label: string }> }> } }).nasReport.views.variants.data(name).map((p) => p.label), VARIANT_MARKS.values);
    expect(labels).toContain('INT8: 0.29× size, −0.2 pt');
    expect(labels).toContain('INT8 (fp32 kept): 1.00× size, ±0.0 pt');

    // 1280 px wide: no horizontal scrollbar, and no table wider than its box.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    expect(await page.$$eval('table', (ts) => ts.filter((t) => t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().right > 1280).length)).toBe(0);

    const shots = mkdtempSync(join(tmpdir(), 'report-shot-'));
    await page.screenshot({ path: join(shots, 'final.png'), fullPage: true });
    console.log(`screenshot: ${join(shots, 'final.png')}`);

    // Hover a baseline: its figures and verdict; click: final/<id>/.
    const target = `g.${FINAL_MARKS.points}_marks path[aria-label^="mobilenetv3-small"]`;
    await page.hover(target);
    await page.waitForFunction(() => !document.getElementById('tooltip')!.hidden);
    const tooltip = await page.$eval('#tooltip', (t) => t.textContent ?? '');
    expect(tooltip).toContain('test accuracy: 92.3% (95% interval 91.8–92.8%)');
    expect(tooltip).toContain('latency: 0.251 ms p50, 0.270 ms p90');
    expect(tooltip).toContain(`verdict: ${baselineRows[2].verdict}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await Promise.all([page.waitForNavigation(), page.click(target)]);
    expect(page.url()).toBe(new URL('final/mobilenetv3-small/', url).href);

    expect(problems).toEqual([]);
    expect(requests.filter((r) => !r.startsWith('file://') && !r.startsWith('data:'))).toEqual([]);
    await page.close();
  });
});
