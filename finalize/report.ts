/**
 * What `nas finalize` writes: finalized.csv (front, baselines and teacher
 * with test accuracy and its 95% interval, latency from one interleaved run,
 * size, epochs and recipe hash (per model: `--time` gives each its own
 * epochs), wall time, and on each baseline's row the verdict in words),
 * finalized.svg (accuracy vs latency, front and
 * baselines marked apart) and a section of summary.md that names, for each
 * baseline, the front model that dominates it or the band where none does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteSvg } from '../charts.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { compareWithBaselines, type DominanceResult, type ScoredModel } from './dominance.js';
import type { FinalizeResult } from './finalize-run.js';
import { wilsonInterval } from '../intervals.js';
import { teacherTrainingNote } from '../train/teacher-progress.js';
import { recipeHash } from './recipe.js';
import { formatSeconds } from './time-plan.js';

export const FINALIZED_CSV = 'finalized.csv';
export const FINALIZED_SVG = 'finalized.svg';
export const FINALIZED_COLUMNS = [
  'id', 'kind', 'name', 'test_accuracy', 'test_accuracy_low', 'test_accuracy_high', 'test_images',
  'latency_p50_ms', 'latency_p90_ms', 'latency_ratio_to_first', 'params', 'macs', 'epochs', 'train_seconds', 'files', 'selected_as',
  'dominated_by', 'verdict', 'recipe_hash',
] as const;

const SECTION_START = '<!-- nas finalize: start -->';
const SECTION_END = '<!-- nas finalize: end -->';
const round = (v: number, digits: number) => Number(v.toFixed(digits));
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The finalized models scored for the dominance check. */
export function scoredModels(result: FinalizeResult): { front: ScoredModel[]; baselines: ScoredModel[] } {
  const scored = result.models
    .filter((m) => m.latency.state !== 'errored')
    .map((m) => {
      const interval = wilsonInterval(m.record.testAccuracy, m.record.testCount);
      const stats = m.latency.state === 'errored' ? null : m.latency.stats;
      return { kind: m.record.kind, id: m.record.id, name: m.record.name, accuracy: m.record.testAccuracy, accuracyLow: interval.low, accuracyHigh: interval.high, latency: stats!.p50 };
    });
  return { front: scored.filter((m) => m.kind === 'front'), baselines: scored.filter((m) => m.kind === 'baseline') };
}

/** Each baseline against the finalized front, in the baselines' order. */
export function dominanceOf(result: FinalizeResult): DominanceResult[] {
  const { front, baselines } = scoredModels(result);
  return compareWithBaselines(front, baselines);
}

/**
 * finalized.csv. A baseline's row carries the verdict as `nas finalize`
 * printed it (`verdict`, from dominanceVerdict) and the front id that
 * dominates it (`dominated_by`, empty when none does): report.html reads them
 * rather than judging again, so the page says exactly what this finalization
 * concluded, with the figures it had before rounding, even if the rule changes later.
 */
export function finalizedCsv(result: FinalizeResult, dominance: readonly DominanceResult[] = dominanceOf(result)): string {
  const verdicts = new Map(dominance.map((d) => [d.baseline.id, d]));
  const rows: Array<Record<(typeof FINALIZED_COLUMNS)[number], string | number>> = result.models.map((m) => {
    const r = m.record;
    const interval = wilsonInterval(r.testAccuracy, r.testCount);
    const stats = m.latency.state === 'errored' ? null : m.latency.stats;
    const verdict = r.kind === 'baseline' ? verdicts.get(r.id) : undefined;
    return {
      id: r.id,
      kind: r.kind,
      name: r.name,
      test_accuracy: round(r.testAccuracy, 5),
      test_accuracy_low: round(interval.low, 5),
      test_accuracy_high: round(interval.high, 5),
      test_images: r.testCount,
      latency_p50_ms: stats ? round(stats.p50, 5) : '',
      latency_p90_ms: stats ? round(stats.p90, 5) : '',
      latency_ratio_to_first: m.latency.ratioToFirst === null ? '' : round(m.latency.ratioToFirst, 4),
      params: r.params,
      macs: r.macs,
      epochs: r.epochs,
      train_seconds: round(r.trainSeconds, 1),
      files: m.files,
      selected_as: m.selectedAs.join('; '),
      dominated_by: verdict?.state === 'dominated' ? verdict.by.id : '',
      verdict: verdict ? dominanceVerdict(verdict) : '',
      recipe_hash: r.recipeHash,
    };
  });
  if (result.teacher && result.teacher.testCount) {
    const interval = wilsonInterval(result.teacher.testAccuracy, result.teacher.testCount);
    rows.push({
      id: 'teacher', kind: 'teacher', name: result.teacher.description,
      test_accuracy: round(result.teacher.testAccuracy, 5), test_accuracy_low: round(interval.low, 5), test_accuracy_high: round(interval.high, 5), test_images: result.teacher.testCount,
      latency_p50_ms: '', latency_p90_ms: '', latency_ratio_to_first: '', params: '', macs: '', epochs: '',
      train_seconds: result.teacher.trainSeconds === null ? '' : round(result.teacher.trainSeconds, 1), files: '', selected_as: '', dominated_by: '', verdict: '', recipe_hash: '',
    });
  }
  return stringify(rows, { header: true, columns: [...FINALIZED_COLUMNS] });
}

/** Test accuracy (with its interval as an error bar) against latency p50; baselines as squares, front as circles. */
export async function renderFinalizedSvg(result: FinalizeResult, title: string): Promise<string> {
  const { front, baselines } = scoredModels(result);
  const points = [...front.map((m) => ({ ...m, group: 'front (finalized)' })), ...baselines.map((m) => ({ ...m, group: 'hand-designed baseline' }))].map((m) => ({
    ...m,
    accuracy: m.accuracy * 100,
    low: m.accuracyLow * 100,
    high: m.accuracyHigh * 100,
    label: m.group === 'front (finalized)' ? m.id : m.name,
  }));
  const color = { field: 'group', type: 'nominal' as const, scale: { domain: ['front (finalized)', 'hand-designed baseline'], range: ['#d62728', '#1f77b4'] }, title: null };
  const x = { field: 'latency', type: 'quantitative' as const, title: 'latency p50 (ms, one interleaved run, this machine)', scale: { type: 'log' as const } };
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${title}: finalized front vs hand-designed baselines`, subtitle: `test accuracy with 95% interval; ${epochsInWords(result)}, recipe ${recipeHash(result.recipe)}` },
    width: 560,
    height: 380,
    background: 'white',
    data: { values: points },
    layer: [
      { mark: { type: 'rule' }, encoding: { x, y: { field: 'low', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } }, y2: { field: 'high' }, color } },
      {
        mark: { type: 'point', filled: true, size: 90 },
        encoding: { x, y: { field: 'accuracy', type: 'quantitative' }, color, shape: { field: 'group', type: 'nominal', scale: { domain: ['front (finalized)', 'hand-designed baseline'], range: ['circle', 'square'] }, title: null } },
      },
      { mark: { type: 'text', dx: 6, align: 'left', fontSize: 9 }, encoding: { x, y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  };
  return renderVegaLiteSvg(spec);
}

/** `30 epochs`, or `5–30 epochs per model` when a --time plan gave models different epochs. */
function epochsInWords(result: FinalizeResult): string {
  const epochs = [...new Set(result.models.map((m) => m.record.epochs))].sort((a, b) => a - b);
  if (!epochs.length) return `${result.recipe.epochs} epochs`;
  return epochs.length === 1 ? `${epochs[0]} epochs` : `${epochs[0]}–${epochs.at(-1)} epochs per model`;
}

/** The `--time` plan's lines for summary.md: the budget, the expected and actual training time, what was shortened or dropped. */
function timeLines(result: FinalizeResult): string[] {
  const t = result.time;
  if (!t) return [];
  return [
    '',
    `Fitted to \`--time ${formatSeconds(t.budgetSeconds)}\` (started ${t.startedAt}): trainings planned at ${formatSeconds(t.trainingSeconds)} on ${t.workers} worker(s) from each model's measured speed, the whole finalization at ${formatSeconds(t.expectedSeconds)}; this session trained for ${formatSeconds(result.wallSeconds)}. ${t.shortened ? `Shortened: ${t.shortened}.` : `Every model trained the full ${t.epochs.max} epochs.`}`,
    ...t.dropped.map((d) => `- dropped ${d.name}: ${d.reason}`),
  ];
}

/** A baseline's verdict in one sentence: who dominates it and by how much, or the band where the search failed. */
export function dominanceVerdict(d: DominanceResult): string {
  return d.state === 'dominated'
    ? `${d.baseline.name} (${pct(d.baseline.accuracy)}, ${d.baseline.latency.toFixed(4)} ms) is dominated by ${d.by.id} (${pct(d.by.accuracy)}, ${d.by.latency.toFixed(4)} ms: ${d.accuracyGain >= 0 ? '+' : ''}${(d.accuracyGain * 100).toFixed(2)} points at ${d.latencyRatio.toFixed(2)}× the latency)`
    : `SEARCH FAILED against ${d.baseline.name} (${pct(d.baseline.accuracy)}, ${d.baseline.latency.toFixed(4)} ms): ${d.reason}`;
}

/** One line per baseline: who dominates it, or the failed band (what `nas finalize` prints and summary.md lists). */
export function dominanceLines(results: readonly DominanceResult[]): string[] {
  return results.map(dominanceVerdict);
}

export function summarySection(result: FinalizeResult, dominance: readonly DominanceResult[]): string {
  const r = result.recipe;
  const lines = [
    SECTION_START,
    '## Finalized models (`nas finalize`)',
    '',
    `Recipe ${recipeHash(r)}: ${epochsInWords(result)} on the training split (each model's epochs and recipe hash in finalized.csv), batch ${r.batchSize}, SGD momentum, peak learning rate ${r.learningRate} after ${new Set(result.models.map((m) => m.record.epochs)).size > 1 ? 'a warm-up of one epoch (5% of a schedule shorter than 20)' : `${Number(r.warmupEpochs.toFixed(3))} warm-up epoch(s)`} then cosine to 0, weight decay ${r.weightDecay}, pad-crop ${r.augment.padCrop} + flip, KD α ${r.distillation.alpha} T ${r.distillation.temperature}, label smoothing ${r.labelSmoothing}, from scratch (seed ${r.seed}). Front members and baselines alike.`,
    ...timeLines(result),
    result.teacher ? `Teacher: ${result.teacher.description}; test accuracy ${pct(result.teacher.testAccuracy)}${teacherTrainingNote(result.teacher)}.` : 'Teacher: none (plain training).',
    '',
    '| id | kind | name | test accuracy (95% interval) | p50 ms | p90 ms | params | MMACs | epochs | train s | selected as |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...result.models.map((m) => {
      const i = wilsonInterval(m.record.testAccuracy, m.record.testCount);
      const s = m.latency.state === 'errored' ? null : m.latency.stats;
      return `| ${m.record.id} | ${m.record.kind} | ${m.record.name} | ${pct(m.record.testAccuracy)} (${pct(i.low)}–${pct(i.high)}) | ${s ? s.p50.toFixed(4) : '—'} | ${s ? s.p90.toFixed(4) : '—'} | ${m.record.params} | ${(m.record.macs / 1e6).toFixed(2)} | ${m.record.epochs} | ${m.record.trainSeconds.toFixed(0)} | ${m.selectedAs.join('; ')} |`;
    }),
    '',
    'Latencies come from one interleaved run of all these models. A front model dominates a baseline when its test accuracy is at least the baseline\'s lower 95% bound and its p50 at most 5% above the baseline\'s.',
    '',
    ...(dominance.length ? dominanceLines(dominance).map((l) => `- ${l}`) : ['- no baselines were trained (--no-baselines)']),
    ...(result.failed.length ? ['', '### Failed', '', ...result.failed.map((f) => `- ${f.id}: ${f.error}`)] : []),
    SECTION_END,
  ];
  return lines.join('\n') + '\n';
}

/** Replaces (or appends) the finalize section of summary.md, leaving the search's part as it was. */
export function withSummarySection(existing: string, section: string): string {
  const start = existing.indexOf(SECTION_START);
  const end = existing.indexOf(SECTION_END);
  if (start >= 0 && end > start) return existing.slice(0, start) + section + existing.slice(end + SECTION_END.length + 1);
  return `${existing}${existing && !existing.endsWith('\n\n') ? '\n' : ''}${section}`;
}

/**
 * Writes finalized.csv, finalized.svg and the summary.md section; returns
 * the dominance results. (report.html's "Final models" is the caller's to
 * refresh: search's refreshReportHtml, as nas finalize does.)
 */
export async function writeFinalizeReport(result: FinalizeResult): Promise<DominanceResult[]> {
  const dominance = dominanceOf(result);
  writeFileAtomic(join(result.runDir, FINALIZED_CSV), finalizedCsv(result, dominance));
  writeFileAtomic(join(result.runDir, FINALIZED_SVG), await renderFinalizedSvg(result, result.runDir.split('/').filter(Boolean).pop() ?? 'run'));
  const summary = join(result.runDir, 'summary.md');
  writeFileAtomic(summary, withSummarySection(existsSync(summary) ? readFileSync(summary, 'utf8') : '', summarySection(result, dominance)));
  return dominance;
}
