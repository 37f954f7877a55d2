/**
 * report.html's "Final models" section, from finalized.csv: each baseline's
 * verdict in words, a chart of test accuracy (95% interval as an error bar)
 * against the p50 of finalize's interleaved run, and the table formatted for
 * people. Pure: the CSV arrives as a ReportTable and leaves as page data.
 *
 * The verdict sentences are read from finalized.csv (`verdict`,
 * `dominated_by`), which `nas finalize` writes with the same function that
 * prints them (finalize/report.ts dominanceVerdict). Judging again here would
 * mean importing finalize/ upward or moving its rule down, and would judge
 * the CSV's rounded figures under whatever rule the installed version has;
 * reading the written verdict shows exactly what that finalization concluded.
 */
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { formatDuration } from '../train/teacher-progress.js';
import { countText, intervalText, msText, percentText, ratioText } from './report-format.js';
import { isRelativePath, numberCell, optionalNumberCell, typedRows, type PeopleCell, type PeopleTable, type ReportTable } from './report-table.js';

export const FINALIZED_FILE = 'finalized.csv';

const finalizedRowSchema = z.object({
  id: z.string().min(1, 'is empty'),
  kind: z.enum(['front', 'baseline', 'teacher']),
  name: z.string(),
  test_accuracy: numberCell,
  test_accuracy_low: numberCell,
  test_accuracy_high: numberCell,
  test_images: optionalNumberCell,
  latency_p50_ms: optionalNumberCell,
  latency_p90_ms: optionalNumberCell,
  latency_ratio_to_first: optionalNumberCell,
  params: optionalNumberCell,
  macs: optionalNumberCell,
  epochs: optionalNumberCell,
  train_seconds: optionalNumberCell,
  files: z.string(),
  selected_as: z.string().default(''),
  // Written since finalize records its verdicts; absent in older files.
  dominated_by: z.string().optional(),
  verdict: z.string().optional(),
});
/** One row of finalized.csv, typed. */
export type FinalizedRow = z.infer<typeof finalizedRowSchema>;

/** A baseline's verdict as finalize wrote it. */
export interface BaselineVerdict {
  baseline: string;
  /** `dominated` (by `by`), `failed` (SEARCH FAILED), `unjudged` (no latency, or a finalized.csv from before verdicts were written). */
  state: 'dominated' | 'failed' | 'unjudged';
  by: string | null;
  text: string;
}

/** The section's data; `problem` when finalized.csv cannot be read as documented (the raw table is shown instead). */
export type FinalSection =
  | { state: 'ok'; verdicts: BaselineVerdict[]; /** The chart's vega-lite spec; report-html.ts compiles it (vega-lite loads on first use). */ chartSpec: TopLevelSpec; table: PeopleTable; lead: string; teacher: FinalizedTeacher | null; models: FinalChartModel[] }
  | { state: 'problem'; problem: string; raw: ReportTable };

/** finalized.csv's teacher row: its test accuracy with the interval, on the same test images as the models. */
export interface FinalizedTeacher {
  accuracy: number;
  low: number;
  high: number;
  images: number | null;
  trainSeconds: number | null;
}

/** A finalized model as the chart holds it. */
export interface FinalChartModel {
  id: string;
  name: string;
  kind: 'front' | 'baseline';
  group: typeof FRONT_KIND | typeof BASELINE_KIND;
  /** Percent, with the 95% interval's ends. */
  accuracy: number;
  low: number;
  high: number;
  latencyP50Ms: number;
  /** A baseline's dominating front model, as finalize found it. */
  dominatedBy: string | null;
  label: string;
  href: string;
  tooltip: Record<string, string>;
  description: string;
}

export const FRONT_KIND = 'finalized front model';
export const BASELINE_KIND = 'hand-designed baseline';
/** Names of the chart's vega marks (their SVG groups get `<name>_marks` classes) and data sets. */
export const FINAL_MARKS = { points: 'final_points', intervals: 'final_intervals', links: 'final_links', teacher: 'final_teacher', models: 'final_models' } as const;

/** Where a model's files are: `final/<id>/`, from the `files` cell when it is a safe relative path. */
const filesHref = (row: FinalizedRow) => (isRelativePath(row.files) && row.files !== '' ? `${row.files.replace(/\/$/, '')}/` : `final/${row.id}/`);
const shownName = (row: FinalizedRow) => (row.kind === 'front' ? row.id : row.name || row.id);

function verdictOf(row: FinalizedRow): BaselineVerdict {
  const name = shownName(row);
  if (row.verdict === undefined) return { baseline: name, state: 'unjudged', by: null, text: `${name}: this finalized.csv holds no verdict (written before nas finalize recorded them); summary.md states it` };
  if (row.verdict === '') return { baseline: name, state: 'unjudged', by: null, text: `${name}: not judged (its latency could not be measured)` };
  const by = row.dominated_by ? row.dominated_by : null;
  return { baseline: name, state: by ? 'dominated' : 'failed', by, text: row.verdict };
}

function chartModel(row: FinalizedRow & { latency_p50_ms: number }, verdict: BaselineVerdict | undefined): FinalChartModel {
  const kind = row.kind as 'front' | 'baseline';
  const href = filesHref(row);
  const tooltip: Record<string, string> = {
    [kind === 'front' ? 'front model' : 'baseline']: shownName(row),
    ...(kind === 'front' && row.name && row.name !== row.id ? { name: row.name } : {}),
    'test accuracy': `${percentText(row.test_accuracy)} (95% interval ${intervalText(row.test_accuracy_low, row.test_accuracy_high)})`,
    latency: `${msText(row.latency_p50_ms)} p50${row.latency_p90_ms === null ? '' : `, ${msText(row.latency_p90_ms)} p90`}`,
    ...(row.params === null ? {} : { params: countText(row.params) }),
    ...(row.macs === null ? {} : { MACs: countText(row.macs) }),
    ...(row.epochs === null ? {} : { epochs: String(row.epochs) }),
    ...(row.train_seconds === null ? {} : { training: formatDuration(row.train_seconds) }),
    ...(row.selected_as ? { 'selected as': row.selected_as } : {}),
    ...(verdict ? { verdict: verdict.text } : {}),
    files: href,
  };
  return {
    id: row.id,
    name: row.name,
    kind,
    group: kind === 'front' ? FRONT_KIND : BASELINE_KIND,
    accuracy: row.test_accuracy * 100,
    low: row.test_accuracy_low * 100,
    high: row.test_accuracy_high * 100,
    latencyP50Ms: row.latency_p50_ms,
    dominatedBy: verdict?.by ?? null,
    label: shownName(row),
    href,
    tooltip,
    description: `${shownName(row)}: ${percentText(row.test_accuracy)} at ${msText(row.latency_p50_ms)}`,
  };
}

const FRONT_COLOUR = '#d62728';
const BASELINE_COLOUR = '#1f77b4';
const TEACHER_COLOUR = '#2ca02c';

function finalSpec(models: readonly FinalChartModel[], teacherAccuracy: number | null): TopLevelSpec {
  const links = models.flatMap((b) => {
    const by = b.dominatedBy === null ? undefined : models.find((m) => m.kind === 'front' && m.id === b.dominatedBy);
    return by ? [{ latencyP50Ms: b.latencyP50Ms, accuracy: b.accuracy, toLatency: by.latencyP50Ms, toAccuracy: by.accuracy, tooltip: { verdict: b.tooltip.verdict } }] : [];
  });
  const x = { field: 'latencyP50Ms', type: 'quantitative', title: 'latency p50 (ms, log scale; finalize\'s interleaved run, this machine)', scale: { type: 'log', nice: false, padding: 24 }, axis: { format: '~r' } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%), 95% interval', scale: { zero: false, nice: true, padding: 12 } } as const;
  const groups = { domain: [FRONT_KIND, BASELINE_KIND], range: [FRONT_COLOUR, BASELINE_COLOUR] };
  const color = { field: 'group', type: 'nominal', title: null, scale: groups, legend: { orient: 'bottom', direction: 'horizontal' } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Finalized models against hand-designed baselines', subtitle: 'dashed grey: a baseline joined to the front model that dominates it; dashed green: the teacher; hover for figures, click for the model\'s files' },
    width: 860,
    height: 400,
    background: 'white',
    config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12 }, title: { fontSize: 16, subtitleFontSize: 12 } },
    datasets: { [FINAL_MARKS.models]: models.map((m) => ({ ...m })), final_link_values: links, final_teacher_values: teacherAccuracy === null ? [] : [{ accuracy: teacherAccuracy * 100, text: `teacher ${percentText(teacherAccuracy)}` }] },
    layer: [
      ...(teacherAccuracy === null
        ? []
        : [
          { name: FINAL_MARKS.teacher, data: { name: 'final_teacher_values' }, mark: { type: 'rule', color: TEACHER_COLOUR, strokeDash: [6, 4], strokeWidth: 1.5, tooltip: false }, encoding: { y: { field: 'accuracy', type: 'quantitative' } } },
          { data: { name: 'final_teacher_values' }, mark: { type: 'text', color: TEACHER_COLOUR, align: 'left', baseline: 'bottom', dy: -3, x: 4, fontSize: 12 }, encoding: { y: { field: 'accuracy', type: 'quantitative' }, text: { field: 'text' } } },
        ] as const),
      { name: FINAL_MARKS.links, data: { name: 'final_link_values' }, mark: { type: 'rule', color: '#777', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x, y, x2: { field: 'toLatency' }, y2: { field: 'toAccuracy' }, tooltip: { field: 'tooltip' } } },
      { name: FINAL_MARKS.intervals, data: { name: FINAL_MARKS.models }, mark: { type: 'rule', strokeWidth: 2, opacity: 0.7, tooltip: false }, encoding: { x, y: { ...y, field: 'low' }, y2: { field: 'high' }, color } },
      {
        name: FINAL_MARKS.points,
        data: { name: FINAL_MARKS.models },
        mark: { type: 'point', filled: true, size: 120, opacity: 1, stroke: 'black', strokeWidth: 0.6, cursor: 'pointer' },
        encoding: { x, y, color, shape: { field: 'group', type: 'nominal', title: null, scale: { domain: groups.domain, range: ['circle', 'square'] } }, tooltip: { field: 'tooltip' }, href: { field: 'href' }, description: { field: 'description' } },
      },
      { data: { name: FINAL_MARKS.models }, mark: { type: 'text', align: 'left', dx: 9, dy: -7, fontSize: 11, color: '#333', tooltip: false }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

const cell = (text: string, raw?: string | number | null): PeopleCell => (raw === undefined || raw === null ? { text } : { text, raw: String(raw) });
const dash = '—';

function peopleTable(rows: readonly FinalizedRow[]): PeopleTable {
  const columns = [
    { title: 'model', numeric: false },
    { title: 'kind', numeric: false },
    { title: 'test accuracy (95% interval)', numeric: true },
    { title: 'p50', numeric: true },
    { title: 'p90', numeric: true },
    { title: 'p50 vs first model', numeric: true },
    { title: 'params', numeric: true },
    { title: 'MACs', numeric: true },
    { title: 'epochs', numeric: true },
    { title: 'training', numeric: true },
    { title: 'selected as', numeric: false },
  ];
  return {
    file: FINALIZED_FILE,
    columns,
    rows: rows.map((r) => [
      // The teacher's description is in the header; here it is on hover.
      r.kind === 'teacher' ? cell('teacher', r.name || null) : { text: shownName(r), ...(r.kind === 'front' && r.name && r.name !== r.id ? { raw: r.name } : {}), href: filesHref(r) },
      cell(r.kind),
      cell(`${percentText(r.test_accuracy)} (${intervalText(r.test_accuracy_low, r.test_accuracy_high)})`, `${r.test_accuracy} (${r.test_accuracy_low}–${r.test_accuracy_high}) of ${r.test_images ?? '?'} images`),
      r.latency_p50_ms === null ? cell(dash) : cell(msText(r.latency_p50_ms), r.latency_p50_ms),
      r.latency_p90_ms === null ? cell(dash) : cell(msText(r.latency_p90_ms), r.latency_p90_ms),
      r.latency_ratio_to_first === null ? cell(dash) : cell(ratioText(r.latency_ratio_to_first), r.latency_ratio_to_first),
      r.params === null ? cell(dash) : cell(countText(r.params), r.params),
      r.macs === null ? cell(dash) : cell(countText(r.macs), r.macs),
      r.epochs === null ? cell(dash) : cell(String(r.epochs)),
      r.train_seconds === null ? cell(dash) : cell(formatDuration(r.train_seconds), `${r.train_seconds} s`),
      cell(r.selected_as),
    ]),
  };
}

/** The "Final models" section from finalized.csv as read. */
export function finalSection(table: ReportTable): FinalSection {
  if (table.state === 'unreadable') return { state: 'problem', problem: `${table.file} could not be read: ${table.error}`, raw: table };
  const parsed = typedRows(table, finalizedRowSchema);
  if (parsed.state === 'invalid') return { state: 'problem', problem: parsed.problem, raw: table };
  const rows = parsed.rows;
  const verdicts = new Map(rows.filter((r) => r.kind === 'baseline').map((r) => [r.id, verdictOf(r)]));
  const teacher = rows.find((r) => r.kind === 'teacher');
  const models = rows
    .filter((r): r is FinalizedRow & { latency_p50_ms: number } => r.kind !== 'teacher' && r.latency_p50_ms !== null)
    .map((r) => chartModel(r, verdicts.get(r.id)));
  const epochs = [...new Set(rows.filter((r) => r.kind !== 'teacher' && r.epochs !== null).map((r) => r.epochs))];
  const images = [...new Set(rows.map((r) => r.test_images).filter((n) => n !== null))];
  const lead = `${rows.filter((r) => r.kind === 'front').length} front model(s) and ${verdicts.size} baseline(s), ${epochs.length === 1 ? `${epochs[0]} epochs each` : 'trained'} with one recipe; test accuracy on ${images.length === 1 ? `${images[0]!.toLocaleString('en-US')} test images` : 'the test split'}`;
  return {
    state: 'ok',
    verdicts: [...verdicts.values()],
    chartSpec: finalSpec(models, teacher ? teacher.test_accuracy : null),
    table: peopleTable(rows),
    lead,
    teacher: teacher ? { accuracy: teacher.test_accuracy, low: teacher.test_accuracy_low, high: teacher.test_accuracy_high, images: teacher.test_images, trainSeconds: teacher.train_seconds } : null,
    models,
  };
}
