/**
 * What a user reads in the morning, all regenerated from the journal:
 * candidates.csv, pareto.csv, generations.csv, pareto.svg, report.html,
 * summary.md, and front/ with each front member's genome.json, model.onnx
 * and tfjs model.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { writeFileAtomic } from '../space/candidate-files.js';
import { summariseGenome } from '../space/genome.js';
import { objectivesOf, type SearchConfig } from './config.js';
import { latestRecords, rungResults } from './fidelity.js';
import { readRunConfig, readTeacherKey, RunDirectoryError } from './run-directory.js';
import { JOURNAL_FILE, readJournal } from './journal.js';
import { frontOf, hypervolumeOf, referencePoint } from './objectives.js';
import { renderParetoSvg } from './plot.js';
import { writeFrontInt8Models } from './front-int8.js';
import { reportPageData, type GenerationRow, type ReportTable } from './report-html.js';
import { renderReportHtml, vegaBrowserRuntime } from './report-page.js';
import type { TeacherFacts } from './report-teacher.js';
import { readTeacherMeta } from '../train/teacher.js';
import { DEFAULT_TEACHER_ARCHITECTURE } from '../train/teacher-types.js';
import { SUBNET_BN_IMAGES } from '../train/constants.js';
import type { CandidateRecord, EvaluatedRecord } from './types.js';

const round = (v: number | undefined, digits: number) => (v === undefined ? '' : Number(v.toFixed(digits)));

/** A rejection in words, `maxLatencyMs 0.5412 > 0.45`: a measured latency to 4 significant digits (its noise is ±10%), counts as they are. */
export function rejectionText(r: Extract<CandidateRecord, { state: 'rejected' }>): string {
  const value = Number.isInteger(r.value) ? String(r.value) : String(Number(r.value.toPrecision(4)));
  return `${r.constraint} ${value} > ${r.limit}`;
}

export function candidatesCsv(records: readonly CandidateRecord[], frontIds: ReadonlySet<string>): string {
  const rows = records.map((r) => ({
    id: r.id,
    generation: r.generation,
    state: r.state,
    on_front: frontIds.has(r.id),
    genome: summariseGenome(r.genome),
    resolution: r.genome.resolution,
    params: r.params,
    macs: r.macs,
    latency_p50_ms: round(r.latency?.p50, 5),
    latency_p90_ms: round(r.latency?.p90, 5),
    latency_source: r.latency?.source ?? '',
    latency_precision: r.latency ? (r.latency.precision ?? 'fp32') : '',
    int8_variant: r.latency?.int8Variant ?? '',
    fp32_latency_p50_ms: round(r.latency?.fp32P50, 5),
    accuracy: r.state === 'evaluated' ? round(r.accuracy, 5) : '',
    log_likelihood: r.state === 'evaluated' ? round(r.logLikelihood, 5) : '',
    train_seconds: r.state === 'evaluated' ? round(r.trainSeconds, 2) : '',
    images_per_second: r.state === 'evaluated' ? round(r.imagesPerSecond, 1) : '',
    constraint: r.state === 'rejected' ? rejectionText(r) : '',
    error: r.state === 'failed' ? `${r.stage}: ${r.error}` : '',
    rung: r.state === 'evaluated' ? (r.rung ?? '') : '',
    images_trained: r.state === 'evaluated' ? (r.imagesTrained ?? '') : '',
  }));
  return stringify(rows, {
    header: true,
    cast: { boolean: (v) => (v ? 'true' : 'false') },
    columns: ['id', 'generation', 'state', 'on_front', 'genome', 'resolution', 'params', 'macs', 'latency_p50_ms', 'latency_p90_ms', 'latency_source', 'latency_precision', 'int8_variant', 'fp32_latency_p50_ms', 'accuracy', 'log_likelihood', 'train_seconds', 'images_per_second', 'constraint', 'error', 'rung', 'images_trained'],
  });
}

/** `hasFiles`: whether a front member's files are in front/<id> (the proxy evaluator trains no model). @default every member's are */
export function paretoCsv(records: readonly CandidateRecord[], config: SearchConfig, hasFiles: (id: string) => boolean = () => true): string {
  const rows = frontOf(records, objectivesOf(config)).map((r) => ({
    id: r.id,
    accuracy: round(r.accuracy, 5),
    log_likelihood: round(r.logLikelihood, 5),
    latency_p50_ms: round(r.latency.p50, 5),
    latency_p90_ms: round(r.latency.p90, 5),
    latency_precision: r.latency.precision ?? 'fp32',
    int8_variant: r.latency.int8Variant ?? '',
    params: r.params,
    macs: r.macs,
    generation: r.generation,
    genome: summariseGenome(r.genome),
    files: hasFiles(r.id) ? `front/${r.id}` : '',
    rung: r.rung ?? '',
    images_trained: r.imagesTrained ?? '',
  }));
  return stringify(rows, { header: true, columns: ['id', 'accuracy', 'log_likelihood', 'latency_p50_ms', 'latency_p90_ms', 'latency_precision', 'int8_variant', 'params', 'macs', 'generation', 'genome', 'files', 'rung', 'images_trained'] });
}

/** rungs.csv (multi-fidelity runs): every rung result in the order it was journaled. */
export function rungsCsv(lines: readonly CandidateRecord[]): string {
  const rows = rungResults(lines).map((r) => ({
    id: r.id,
    rung: r.rung,
    images_trained: r.imagesTrained ?? '',
    accuracy: round(r.accuracy, 5),
    latency_p50_ms: round(r.latency.p50, 5),
    params: r.params,
    macs: r.macs,
    generation: r.generation,
    train_seconds: round(r.trainSeconds, 2),
  }));
  return stringify(rows, { header: true, columns: ['id', 'rung', 'images_trained', 'accuracy', 'latency_p50_ms', 'params', 'macs', 'generation', 'train_seconds'] });
}

/** Hypervolume and front size after each generation, recomputed from the records. */
export function generationRows(records: readonly CandidateRecord[], config: SearchConfig): GenerationRow[] {
  const last = Math.max(-1, ...records.map((r) => r.generation));
  const rows: GenerationRow[] = [];
  for (let g = 0; g <= last; g++) {
    const upTo = records.filter((r) => r.generation <= g);
    rows.push({
      generation: g,
      candidates: upTo.length,
      evaluated: upTo.filter((r) => r.state === 'evaluated').length,
      rejected: upTo.filter((r) => r.state === 'rejected').length,
      failed: upTo.filter((r) => r.state === 'failed').length,
      front_size: frontOf(upTo, objectivesOf(config)).length,
      hypervolume: round(hypervolumeOf(upTo, config), 8),
    });
  }
  return rows;
}

export function generationsCsv(rows: readonly GenerationRow[]): string {
  return stringify(rows as GenerationRow[], { header: true, columns: ['generation', 'candidates', 'evaluated', 'rejected', 'failed', 'front_size', 'hypervolume'] });
}

/** How many latency measurements a prediction stood in for, by outcome. */
export function latencySavedLine(records: readonly CandidateRecord[]): string {
  const predicted = records.filter((r) => r.latency?.source === 'predicted');
  const rejected = predicted.filter((r) => r.state === 'rejected').length;
  return `- latency measurements saved by the predictor: ${predicted.length} (${predicted.length - rejected} accepted and ${rejected} rejected on a prediction)`;
}

/** `int8 (all)` for a latency measured as an INT8 variant, else `fp32`. */
const precisionCell = (r: EvaluatedRecord) => (r.latency.precision === 'int8' ? `int8 (${r.latency.int8Variant})` : 'fp32');

/** What latency stands for in this run: the precision and threads, and under `best` how the front split. */
export function latencyPrecisionLine(config: SearchConfig, front: readonly EvaluatedRecord[]): string {
  const l = config.latency;
  const threads = `${l.threads} thread${l.threads === 1 ? '' : 's'}`;
  if (l.precision === 'fp32') return `- latency: fp32 models, ${threads}`;
  if (l.precision === 'int8') return `- latency: the INT8 model compress would ship (fastest variant), ${threads}`;
  const int8 = front.filter((r) => r.latency.precision === 'int8').length;
  return `- latency: fp32 or INT8, whichever compress would ship, ${threads}; on the front ${int8} INT8 and ${front.length - int8} fp32`;
}

/** What a candidate's accuracy was read on: the validation split, and the training images outside the subset where the config asks. */
export function accuracyImagesLine(config: SearchConfig): string {
  if (config.evaluator === 'supernet') {
    const { bnImages, validationImages } = config.supernetScoring ?? {};
    const on = validationImages !== undefined ? `the validation split's first ${validationImages} images` : 'the validation split';
    return `- accuracy: validation, read on ${on}, inherited weights with batch-norm statistics from ${bnImages ?? SUBNET_BN_IMAGES} training images`;
  }
  const { subset, validateOutsideSubset } = config.training;
  const outside = subset !== undefined && validateOutsideSubset !== undefined ? ` and up to ${validateOutsideSubset} training images outside the ${subset}-image training subset` : '';
  return `- accuracy: validation, read on the validation split${outside}`;
}

/** A table cell: a `|` inside one would end the cell (genome summaries hold several), a newline the row. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** `withFiles`: how many front members have files in front/ (none for the proxy evaluator, which trains no model). */
export function summaryMarkdown(records: readonly CandidateRecord[], config: SearchConfig, withFiles = frontOf(records, objectivesOf(config)).length): string {
  const front = frontOf(records, objectivesOf(config));
  const count = (state: string) => records.filter((r) => r.state === state).length;
  const ref = referencePoint(config);
  const ll = config.rankBy === 'log-likelihood';
  const lines = [
    `# Search summary${config.name ? `: ${config.name}` : ''}`,
    '',
    `- data: ${config.data}; searcher: ${config.searcher.algorithm} (population ${config.searcher.population}); seed ${config.seed}; evaluator: ${config.evaluator}`,
    `- candidates: ${records.length} (${count('evaluated')} trained, ${count('rejected')} rejected by constraints, ${count('failed')} failed)`,
    `- objectives: ${objectivesOf(config).join(', ')}; constraints: ${JSON.stringify(config.constraints)}`,
    ...(ll ? ["- ranked by each subnet's mean log-likelihood on the validation split (rankBy), a less noisy reading than top-1 accuracy; the table shows both"] : []),
    accuracyImagesLine(config),
    latencyPrecisionLine(config, front),
    latencySavedLine(records),
    `- hypervolume: ${hypervolumeOf(records, config).toFixed(6)} (reference point accuracy ${-ref[0]}, latency ${ref[1]} ms${ref[2] !== undefined ? `, ${config.thirdObjective} ${ref[2]}` : ''})`,
    '',
    config.evaluator === 'proxy'
      ? '## Pareto front (proxy accuracy vs formula latency p50: nothing was trained or measured)'
      : `## Pareto front (validation ${ll ? 'log-likelihood' : 'accuracy'} vs latency p50, untrained-model latency on this machine)`,
    '',
    `| id | accuracy |${ll ? ' log-likelihood |' : ''} p50 ms | p90 ms | precision | params | MMACs | genome |`,
    `|---|---:|${ll ? '---:|' : ''}---:|---:|---|---:|---:|---|`,
    ...front.map((r) => `| ${r.id} | ${(r.accuracy * 100).toFixed(2)}% |${ll ? ` ${r.logLikelihood?.toFixed(4) ?? ''} |` : ''} ${r.latency.p50.toFixed(4)} | ${r.latency.p90.toFixed(4)} | ${precisionCell(r)} | ${r.params} | ${(r.macs / 1e6).toFixed(2)} | ${markdownCell(summariseGenome(r.genome))} |`),
    '',
    withFiles > 0
      ? `Each front member's \`genome.json\`, \`model.onnx\` and tfjs \`model.json\` are in \`front/<id>/\`${front.some((r) => r.latency.precision === 'int8') ? '; INT8 members also have `model.int8.onnx`, the model their latency is of' : ''}.`
      : `No model files: ${config.evaluator === 'proxy' ? 'the proxy evaluator trains no model, so' : 'no front member left files, so'} there is no \`front/\` directory.`,
    `Validation ${ll ? 'log-likelihood' : 'accuracy'} is what the search optimised; test accuracy is reported by \`nas compress\`.`,
  ];
  const failures = records.filter((r) => r.state === 'failed');
  if (failures.length) {
    lines.push('', '## Failures', '', ...failures.map((r) => `- ${r.id} (${r.state === 'failed' ? r.stage : ''}): ${r.state === 'failed' ? r.error : ''}`));
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes the CSVs and plot; with `final`, also summary.md and front/ (copies
 * of the front members' candidate directories, where training saved them).
 */
export async function writeRunReport(runDir: string, config: SearchConfig, lines: readonly CandidateRecord[], options: { final: boolean }): Promise<void> {
  // One record per candidate at its highest rung; rungs.csv keeps every rung's result.
  const records = latestRecords(lines);
  if (lines.some((r) => r.state === 'evaluated' && r.rung !== undefined)) writeFileAtomic(join(runDir, 'rungs.csv'), rungsCsv(lines));
  const front = frontOf(records, objectivesOf(config));
  const frontIds = new Set(front.map((r) => r.id));
  // Front members whose training saved files (none under the proxy evaluator).
  const withFiles = new Set(front.filter((r) => existsSync(join(runDir, 'candidates', r.id))).map((r) => r.id));
  writeFileAtomic(join(runDir, 'candidates.csv'), candidatesCsv(records, frontIds));
  writeFileAtomic(join(runDir, 'pareto.csv'), paretoCsv(records, config, (id) => withFiles.has(id)));
  const generations = generationRows(records, config);
  writeFileAtomic(join(runDir, 'generations.csv'), generationsCsv(generations));
  writeFileAtomic(join(runDir, 'pareto.svg'), await renderParetoSvg(records, frontIds, runNameOf(runDir, config)));
  if (!options.final) {
    await writeReportHtml(runDir, config, records, generations);
    return;
  }
  writeFileAtomic(join(runDir, 'summary.md'), summaryMarkdown(records, config, withFiles.size));
  const frontDir = join(runDir, 'front');
  rmSync(frontDir, { recursive: true, force: true });
  // No front/ at all rather than an empty one that reads as lost files.
  if (withFiles.size) mkdirSync(frontDir, { recursive: true });
  for (const id of withFiles) cpSync(join(runDir, 'candidates', id), join(frontDir, id), { recursive: true });
  await writeReportHtml(runDir, config, records, generations);
  // Last: it loads the data, and a failure here must not cost the files above.
  await writeFrontInt8Models(frontDir, config, front.filter((r) => withFiles.has(r.id)));
}

const runNameOf = (runDir: string, config: SearchConfig) => config.name ?? (basename(resolve(runDir)) || 'search');

/** Files of a run the page links to, when they are there. */
const RUN_FILES = ['finalized.csv', 'finalized.svg', 'final/', 'compression.csv', 'compression.svg', 'compressed/', 'pareto.csv', 'candidates.csv', 'generations.csv', 'rungs.csv', 'summary.md', 'pareto.svg', 'front/', 'config.json', 'journal.jsonl'];

/** Tables other stages write into a run directory, shown by report.html when present. */
export const REPORT_TABLE_FILES = ['compression.csv', 'finalized.csv'] as const;

const csvCells = z.array(z.array(z.string()));

/** A CSV as header + rows; null when absent. A broken file is shown as such, not fatal: the search's own report must still be written. */
export function readReportTable(runDir: string, file: string): ReportTable | null {
  const path = join(runDir, file);
  if (!existsSync(path)) return null;
  try {
    const [columns = [], ...rows] = csvCells.parse(parse(readFileSync(path, 'utf8'), { relax_column_count: true, skip_empty_lines: true }));
    return { state: 'present', file, columns, rows };
  } catch (error) {
    return { state: 'unreadable', file, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * What the run records of its teacher: the source from config.json; its
 * accuracy, training time and machine from the teacher cache's metadata
 * under the key environment.json names (absent when the cache lost it;
 * finalized.csv's teacher row fills the accuracy in, report-html.ts).
 */
export function teacherFactsOf(runDir: string, config: SearchConfig): TeacherFacts | null {
  const t = config.teacher;
  if (t === null) return null;
  const key = readTeacherKey(runDir);
  const meta = key === null ? null : readTeacherMeta(key);
  return {
    source: 'onnx' in t ? { kind: 'onnx', path: t.onnx } : { kind: 'trained', architecture: t.train.architecture ?? DEFAULT_TEACHER_ARCHITECTURE, epochs: t.train.epochs, threads: t.train.threads ?? 1 },
    accuracy: meta?.testAccuracy ?? null,
    interval: null,
    trainSeconds: meta?.trainSeconds ?? null,
    trainedOn: meta?.trainedOn ?? null,
    used: key !== null,
  };
}

/** report.html: what finalize and compress concluded, the interactive plot, hypervolume by generation. */
export async function writeReportHtml(runDir: string, config: SearchConfig, records: readonly CandidateRecord[], generations = generationRows(records, config)): Promise<void> {
  const objectives = objectivesOf(config);
  const front = frontOf(records, objectives);
  const count = (state: string) => records.filter((r) => r.state === state).length;
  const reference = referencePoint(config);
  const page = await reportPageData({
    runName: runNameOf(runDir, config),
    records,
    frontIds: new Set(front.map((r) => r.id)),
    objectives,
    reference,
    generations,
    facts: [
      `data: ${config.data}; searcher: ${config.searcher.algorithm} (population ${config.searcher.population}); seed ${config.seed}; evaluator: ${config.evaluator}`,
      `candidates: ${records.length} (${count('evaluated')} trained, ${count('rejected')} rejected by constraints, ${count('failed')} failed); ${front.length} on the Pareto front`,
      latencyPrecisionLine(config, front).slice(2),
      `hypervolume: ${hypervolumeOf(records, config).toFixed(6)}`,
    ],
    files: RUN_FILES.filter((file) => existsSync(join(runDir, file))),
    linkOf: (id, onFront) => (onFront && existsSync(join(runDir, 'front', id)) ? `front/${id}/` : existsSync(join(runDir, 'candidates', id)) ? `candidates/${id}/` : null),
    tables: REPORT_TABLE_FILES.map((file) => readReportTable(runDir, file)).filter((t): t is ReportTable => t !== null),
    teacher: teacherFactsOf(runDir, config),
  });
  writeFileAtomic(join(runDir, 'report.html'), renderReportHtml(page, vegaBrowserRuntime()));
}

function readJournalRun(runDir: string): { records: CandidateRecord[]; lines: CandidateRecord[]; config: SearchConfig } {
  const { config } = readRunConfig(runDir);
  const journalPath = join(runDir, JOURNAL_FILE);
  // Without its journal a run has nothing to report: refused before anything is rewritten as empty.
  if (!existsSync(journalPath)) throw new RunDirectoryError(journalPath, 'not found; nothing to report from (was this run started here?)');
  const { entries } = readJournal(journalPath);
  const lines = entries.map(({ at: _at, ...r }) => r as CandidateRecord);
  return { records: latestRecords(lines), lines, config };
}

/** `nas report`: regenerates everything from a run directory's journal. */
export async function reportFromJournal(runDir: string): Promise<{ records: CandidateRecord[]; config: SearchConfig }> {
  const { records, lines, config } = readJournalRun(runDir);
  await writeRunReport(runDir, config, lines, { final: true });
  return { records, config };
}

/** Rewrites only report.html (after compress or finalize add their tables). */
export async function refreshReportHtml(runDir: string): Promise<void> {
  const { records, config } = readJournalRun(runDir);
  await writeReportHtml(runDir, config, records);
}
