/**
 * report.html's content as plain data: the teacher, what finalize and
 * compress concluded (report-final.ts, report-variants.ts) when they have
 * run, one point per trained candidate with the front marked, and
 * hypervolume by generation. Pure functions of what they are given; the
 * vega-lite specs are compiled to vega here, in Node, so the page needs only
 * vega's runtime (report-page.ts renders it, report.ts writes it).
 */
import type { TopLevelSpec } from 'vega-lite';
import { compileVegaLite } from '../charts.js';
import { summariseGenome } from '../space/genome.js';
import { FINALIZED_FILE, finalSection, type FinalSection } from './report-final.js';
import { hypervolumeObjectives } from './objectives.js';
import type { ReportTable } from './report-table.js';
import { teacherHeadline, type TeacherFacts } from './report-teacher.js';
import { COMPRESSION_FILE, variantsSection, type VariantsSection } from './report-variants.js';
import type { ObjectiveName, CandidateRecord } from './types.js';

export type { ReportTable } from './report-table.js';

/** One generation as in generations.csv. */
export interface GenerationRow {
  generation: number;
  candidates: number;
  evaluated: number;
  rejected: number;
  failed: number;
  front_size: number;
  hypervolume: number | '';
}

/** A trained candidate as the plot shows it. */
export interface ReportPoint {
  id: string;
  /** Validation accuracy in percent. */
  accuracy: number;
  latencyP50Ms: number;
  latencyP90Ms: number;
  params: number;
  macs: number;
  generation: number;
  /** The multi-fidelity rung the record was trained at, when it has one. */
  rung: number | string | null;
  group: typeof FRONT_GROUP | typeof OTHER_GROUP;
  /** Relative link to its files, or null when none were kept. */
  href: string | null;
  /** Text of the hover tooltip, by label; only present values. */
  tooltip: Record<string, string>;
  /** One-line description (SVG aria-label). */
  label: string;
}

export interface ReportPageInput {
  /** The run's name (config name or directory name). */
  runName: string;
  records: readonly CandidateRecord[];
  /** Ids on the Pareto front (the rows of pareto.csv). */
  frontIds: ReadonlySet<string>;
  objectives: readonly ObjectiveName[];
  /** The hypervolume reference point, in the objectives' order (accuracy negated, 0–1, also where log-likelihood ranks). */
  reference: readonly number[];
  generations: readonly GenerationRow[];
  /** Lines about the run shown under the title (data, searcher, counts…). */
  facts: readonly string[];
  /** Files of the run directory to link to, relative to it. */
  files: readonly string[];
  /** Where a candidate's files are, relative to the run directory, or null. */
  linkOf: (id: string, onFront: boolean) => string | null;
  /** CSVs later stages wrote: finalized.csv and compression.csv get their own sections, any other is shown as it is. */
  tables: readonly ReportTable[];
  /** What the run records of its teacher; null when it has none. */
  teacher: TeacherFacts | null;
}

export interface ReportPage {
  title: string;
  /** The teacher in one line, for the header. */
  teacher: string;
  facts: string[];
  files: string[];
  /** "Final models", when finalized.csv is there. */
  final: FinalSection | null;
  /** "Deployable variants", when compression.csv is there. */
  variants: VariantsSection | null;
  points: ReportPoint[];
  generations: GenerationRow[];
  /** Compiled vega specs, keyed by the chart's element id (`<key>-chart`); final and variants only when their sections drew. */
  charts: { final?: object; variants?: object; pareto: object; hypervolume: object };
  /** Tables of other files, shown as they are. */
  tables: ReportTable[];
}

export const FRONT_GROUP = 'Pareto front';
export const OTHER_GROUP = 'other candidates';
const FRONT_COLOUR = '#d62728';
const OTHER_COLOUR = '#8c8c8c';
/** Plot size in CSS pixels; fits a laptop screen beside the tooltip. */
const CHART_WIDTH = 640;
const CHART_HEIGHT = 400;
/** Names of the vega marks, which become CSS classes of their SVG groups. */
export const MARK_NAMES = { front: 'front_points', other: 'other_points', staircase: 'front_line', hypervolume: 'hypervolume_points' } as const;

const OBJECTIVE_UNITS: Record<ObjectiveName, string> = { accuracy: 'accuracy', logLikelihood: 'log-likelihood', latency: 'latency ms', params: 'params', macs: 'MACs' };

/** A record's rung, read defensively: the field is optional and newer than this module. */
function rungOf(record: CandidateRecord): number | string | null {
  const rung = (record as { rung?: unknown }).rung;
  return typeof rung === 'number' || typeof rung === 'string' ? rung : null;
}

const percent = (v: number) => `${v.toFixed(2)}%`;
const grouped = (v: number) => v.toLocaleString('en-US');

export function reportPoints(input: Pick<ReportPageInput, 'records' | 'frontIds' | 'linkOf'>): ReportPoint[] {
  const points: ReportPoint[] = [];
  for (const r of input.records) {
    if (r.state !== 'evaluated') continue;
    const onFront = input.frontIds.has(r.id);
    const rung = rungOf(r);
    const href = input.linkOf(r.id, onFront);
    const accuracy = r.accuracy * 100;
    const tooltip: Record<string, string> = {
      id: r.id,
      accuracy: `${percent(accuracy)} (validation)`,
      ...(r.logLikelihood === undefined ? {} : { 'log-likelihood': r.logLikelihood.toFixed(4) }),
      latency: `${r.latency.p50.toFixed(4)} ms p50, ${r.latency.p90.toFixed(4)} ms p90`,
      params: grouped(r.params),
      MACs: `${(r.macs / 1e6).toFixed(2)} M`,
      generation: String(r.generation),
      ...(rung === null ? {} : { rung: String(rung) }),
      genome: summariseGenome(r.genome),
      ...(onFront ? { front: 'yes' } : {}),
      files: href ?? 'not kept',
    };
    points.push({
      id: r.id,
      accuracy,
      latencyP50Ms: r.latency.p50,
      latencyP90Ms: r.latency.p90,
      params: r.params,
      macs: r.macs,
      generation: r.generation,
      rung,
      group: onFront ? FRONT_GROUP : OTHER_GROUP,
      href,
      tooltip,
      label: `${r.id}: ${percent(accuracy)} at ${r.latency.p50.toFixed(4)} ms${onFront ? ', on the front' : ''}`,
    });
  }
  return points;
}

/** Vega turns a null href into the text "null"; an empty one is no link. */
const chartValues = (points: readonly ReportPoint[]) => points.map((p) => ({ ...p, href: p.href ?? '' }));

function paretoSpec(points: readonly ReportPoint[], staircase: boolean, title: string): TopLevelSpec {
  const front = points.filter((p) => p.group === FRONT_GROUP);
  const x = { field: 'latencyP50Ms', type: 'quantitative', title: 'latency p50 (ms, untrained model, this machine)', scale: { zero: false, padding: 10 } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'validation accuracy (%)', scale: { zero: false, padding: 10 } } as const;
  const color = { field: 'group', type: 'nominal', title: null, scale: { domain: [FRONT_GROUP, OTHER_GROUP], range: [FRONT_COLOUR, OTHER_COLOUR] } } as const;
  const pointEncoding = { x, y, color, tooltip: { field: 'tooltip' }, href: { field: 'href' }, description: { field: 'label' } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${title}: accuracy vs latency`, subtitle: `${points.length} trained candidates, ${front.length} on the front; hover a point for its figures, click it for its files` },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    background: 'white',
    config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12 }, title: { fontSize: 16, subtitleFontSize: 12 } },
    layer: [
      ...(staircase && front.length > 1
        ? [{
          name: MARK_NAMES.staircase,
          data: { values: [...front].sort((a, b) => a.latencyP50Ms - b.latencyP50Ms) },
          mark: { type: 'line', interpolate: 'step-after', color: FRONT_COLOUR, strokeWidth: 1.5, opacity: 0.6, tooltip: false, aria: false },
          encoding: { x, y },
        } as const]
        : []),
      {
        name: MARK_NAMES.other,
        data: { values: chartValues(points.filter((p) => p.group === OTHER_GROUP)) },
        mark: { type: 'point', filled: true, size: 60, opacity: 0.7, cursor: 'pointer' },
        encoding: pointEncoding,
      },
      {
        name: MARK_NAMES.front,
        data: { values: chartValues(front) },
        mark: { type: 'point', filled: true, size: 90, opacity: 0.95, stroke: 'black', strokeWidth: 0.6, cursor: 'pointer' },
        encoding: pointEncoding,
      },
    ],
  } as TopLevelSpec;
}

function hypervolumeSpec(generations: readonly GenerationRow[], objectives: readonly ObjectiveName[], reference: readonly number[]): TopLevelSpec {
  const values = generations
    .filter((g) => g.hypervolume !== '')
    .map((g) => ({
      generation: g.generation,
      hypervolume: g.hypervolume,
      tooltip: { generation: String(g.generation), hypervolume: Number(g.hypervolume).toPrecision(6), candidates: String(g.candidates), trained: String(g.evaluated), rejected: String(g.rejected), failed: String(g.failed), 'front size': String(g.front_size) },
      label: `generation ${g.generation}: hypervolume ${Number(g.hypervolume).toPrecision(6)}`,
    }));
  const unit = objectives.map((o) => OBJECTIVE_UNITS[o]).join(' × ');
  const ref = objectives.map((o, i) => `${OBJECTIVE_UNITS[o]} ${o === 'accuracy' ? -reference[i] : reference[i]}`).join(', ');
  const x = { field: 'generation', type: 'quantitative', title: 'generation', axis: { tickMinStep: 1, format: 'd' }, scale: { padding: 12 } } as const;
  const y = { field: 'hypervolume', type: 'quantitative', title: `hypervolume (${unit})`, scale: { zero: false, padding: 8 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Hypervolume by generation', subtitle: `area dominated by the front up to the reference point (${ref}); it only grows` },
    width: CHART_WIDTH,
    height: 220,
    background: 'white',
    config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 }, title: { fontSize: 16, subtitleFontSize: 12 } },
    data: { values },
    layer: [
      { mark: { type: 'line', color: '#1f77b4', tooltip: false, aria: false }, encoding: { x, y } },
      { name: MARK_NAMES.hypervolume, mark: { type: 'point', filled: true, size: 50, color: '#1f77b4' }, encoding: { x, y, tooltip: { field: 'tooltip' }, description: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

/** The teacher's accuracy as finalize measured it (with its interval) when finalized.csv has its row. */
function withFinalizedTeacher(teacher: TeacherFacts | null, final: FinalSection | null): TeacherFacts | null {
  const row = final?.state === 'ok' ? final.teacher : null;
  if (!teacher || !row) return teacher;
  return { ...teacher, accuracy: row.accuracy, interval: { low: row.low, high: row.high, images: row.images }, trainSeconds: teacher.trainSeconds ?? row.trainSeconds };
}

/** Everything report.html shows, from the run's records and files already read. */
export async function reportPageData(input: ReportPageInput): Promise<ReportPage> {
  const points = reportPoints(input);
  const twoObjectives = input.objectives.length === 2;
  const facts = [...input.facts];
  if (!twoObjectives) facts.push(`objectives: ${input.objectives.join(', ')} — the front is over all of them, so some red points look dominated in this 2-D view`);
  if (input.objectives.includes('logLikelihood')) facts.push('ranked by log-likelihood (rankBy), not top-1 accuracy, so some red points look dominated by accuracy in this view; hypervolume is in accuracy');
  const finalized = input.tables.find((t) => t.file === FINALIZED_FILE);
  const compression = input.tables.find((t) => t.file === COMPRESSION_FILE);
  const final = finalized ? finalSection(finalized) : null;
  const variants = compression ? variantsSection(compression) : null;
  return {
    title: input.runName,
    teacher: teacherHeadline(withFinalizedTeacher(input.teacher, final)),
    facts,
    files: [...input.files],
    final,
    variants,
    points,
    generations: [...input.generations],
    charts: {
      ...(final?.state === 'ok' ? { final: await compileVegaLite(final.chartSpec) } : {}),
      ...(variants?.state === 'ok' ? { variants: await compileVegaLite(variants.chartSpec) } : {}),
      pareto: await compileVegaLite(paretoSpec(points, twoObjectives, input.runName)),
      hypervolume: await compileVegaLite(hypervolumeSpec(input.generations, hypervolumeObjectives(input.objectives), input.reference)),
    },
    tables: input.tables.filter((t) => t !== finalized && t !== compression),
  };
}
