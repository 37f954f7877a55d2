/**
 * report.html's "Deployable variants" section, from compression.csv: each
 * front member's fp32 → INT8 → pruned → pruned + INT8 as one path in test
 * accuracy against latency, every step labelled with its size ratio and
 * accuracy change against fp32, and the table formatted for people. Pure:
 * the CSV arrives as a ReportTable and leaves as page data.
 */
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { bytesText, countText, msText, percentText, pointsText, ratioText } from './report-format.js';
import { isRelativePath, numberCell, optionalNumberCell, typedRows, type PeopleCell, type PeopleTable, type ReportTable } from './report-table.js';

export const COMPRESSION_FILE = 'compression.csv';
/** The path's order: compress writes the variants in it too. */
export const VARIANT_ORDER = ['fp32', 'int8', 'pruned', 'pruned+int8'] as const;

const compressionRowSchema = z.object({
  id: z.string().min(1, 'is empty'),
  variant: z.enum(VARIANT_ORDER),
  test_accuracy: numberCell,
  params: optionalNumberCell,
  macs: optionalNumberCell,
  file_bytes: numberCell,
  latency_p50_ms: optionalNumberCell,
  latency_p90_ms: optionalNumberCell,
  latency_ratio_to_fp32: optionalNumberCell,
  file: z.string(),
  int8_choice: z.string().default(''),
});
/** One row of compression.csv, typed. */
export type CompressionCsvRow = z.infer<typeof compressionRowSchema>;

/** A variant as the chart holds it; the changes are against the same model's fp32 row (null without one). */
export interface VariantPoint {
  id: string;
  variant: (typeof VARIANT_ORDER)[number];
  /** As the page spells it: fp32, INT8, pruned, pruned + INT8. */
  variantName: string;
  step: number;
  /** Percent. */
  accuracy: number;
  latencyP50Ms: number;
  accuracyChange: number | null;
  sizeRatio: number | null;
  label: string;
  href: string;
  tooltip: Record<string, string>;
  description: string;
}

export type VariantsSection =
  | { state: 'ok'; /** The chart's vega-lite spec; report-html.ts compiles it (vega-lite loads on first use). */ chartSpec: TopLevelSpec; table: PeopleTable; points: VariantPoint[]; models: number }
  | { state: 'problem'; problem: string; raw: ReportTable };

/** Names of the chart's vega marks and data set. */
export const VARIANT_MARKS = { points: 'variant_points', paths: 'variant_paths', values: 'variant_values' } as const;

const VARIANT_NAMES: Record<(typeof VARIANT_ORDER)[number], string> = { fp32: 'fp32', int8: 'INT8', pruned: 'pruned', 'pruned+int8': 'pruned + INT8' };

/** Where a variant's files are: its directory under compressed/. */
const hrefOf = (row: CompressionCsvRow) => (isRelativePath(row.file) && row.file.includes('/') ? `${row.file.slice(0, row.file.lastIndexOf('/'))}/` : `compressed/${row.id}/`);
const fp32Kept = (row: CompressionCsvRow) => row.int8_choice.startsWith('fp32 kept');

function changes(row: CompressionCsvRow, fp32: CompressionCsvRow | undefined): { accuracyChange: number | null; sizeRatio: number | null; speed: number | null } {
  if (!fp32) return { accuracyChange: null, sizeRatio: null, speed: row.latency_ratio_to_fp32 };
  const speed = row.latency_ratio_to_fp32 ?? (row.latency_p50_ms !== null && fp32.latency_p50_ms ? row.latency_p50_ms / fp32.latency_p50_ms : null);
  return { accuracyChange: row.test_accuracy - fp32.test_accuracy, sizeRatio: fp32.file_bytes > 0 ? row.file_bytes / fp32.file_bytes : null, speed };
}

function variantsSpec(points: readonly VariantPoint[], models: number): TopLevelSpec {
  const x = { field: 'latencyP50Ms', type: 'quantitative', title: 'latency p50 (ms, compress\'s interleaved run, this machine)', scale: { zero: false, padding: 24 } } as const;
  const y = { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false, padding: 14 } } as const;
  const color = { field: 'id', type: 'nominal', title: 'front model', legend: { orient: 'bottom', direction: 'horizontal' } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Deployable variants: fp32 → INT8 → pruned → pruned + INT8', subtitle: [`${models} front model(s); each path starts at fp32 (ringed); labels: file size and accuracy change against that model's fp32`, 'hover a point for its figures, click it for its files'] },
    width: 860,
    height: 380,
    background: 'white',
    config: { font: 'system-ui, sans-serif', axis: { labelFontSize: 12, titleFontSize: 13 }, legend: { labelFontSize: 12 }, title: { fontSize: 16, subtitleFontSize: 12 } },
    datasets: { [VARIANT_MARKS.values]: points.map((p) => ({ ...p })) },
    data: { name: VARIANT_MARKS.values },
    layer: [
      { name: VARIANT_MARKS.paths, mark: { type: 'line', strokeWidth: 1.5, opacity: 0.8, tooltip: false, aria: false }, encoding: { x, y, color, detail: { field: 'id' }, order: { field: 'step', type: 'quantitative' } } },
      {
        name: VARIANT_MARKS.points,
        mark: { type: 'point', filled: true, size: 90, opacity: 1, stroke: 'black', strokeWidth: 0.5, cursor: 'pointer' },
        encoding: {
          x,
          y,
          color,
          shape: { field: 'variantName', type: 'nominal', title: 'variant', scale: { domain: VARIANT_ORDER.map((v) => VARIANT_NAMES[v]), range: ['circle', 'diamond', 'triangle-up', 'square'] }, legend: { orient: 'bottom', direction: 'horizontal' } },
          tooltip: { field: 'tooltip' },
          href: { field: 'href' },
          description: { field: 'description' },
        },
      },
      { transform: [{ filter: "datum.variant === 'fp32'" }], mark: { type: 'point', size: 260, strokeWidth: 1.2, color: '#333', tooltip: false, aria: false }, encoding: { x, y } },
      { mark: { type: 'text', align: 'left', dx: 8, dy: 12, fontSize: 10.5, color: '#333', tooltip: false }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

const cell = (text: string, raw?: string | number | null): PeopleCell => (raw === undefined || raw === null ? { text } : { text, raw: String(raw) });
const dash = '—';

function peopleTable(rows: readonly CompressionCsvRow[], fp32Of: (id: string) => CompressionCsvRow | undefined): PeopleTable {
  const columns = [
    { title: 'front model', numeric: false },
    { title: 'variant', numeric: false },
    { title: 'test accuracy (vs fp32)', numeric: true },
    { title: 'p50 (vs fp32)', numeric: true },
    { title: 'file size (vs fp32)', numeric: true },
    { title: 'params', numeric: true },
    { title: 'MACs', numeric: true },
    { title: 'INT8 choice', numeric: false },
    { title: 'file', numeric: false },
  ];
  return {
    file: COMPRESSION_FILE,
    columns,
    rows: rows.map((r) => {
      const c = changes(r, fp32Of(r.id));
      const vsFp32 = r.variant !== 'fp32';
      return [
        { text: r.id, href: hrefOf(r) },
        cell(VARIANT_NAMES[r.variant]),
        cell(`${percentText(r.test_accuracy)}${vsFp32 && c.accuracyChange !== null ? ` (${pointsText(c.accuracyChange)})` : ''}`, r.test_accuracy),
        r.latency_p50_ms === null ? cell(dash) : cell(`${msText(r.latency_p50_ms)}${vsFp32 && c.speed !== null ? ` (${ratioText(c.speed)})` : ''}`, r.latency_p50_ms),
        cell(`${bytesText(r.file_bytes)}${vsFp32 && c.sizeRatio !== null ? ` (${ratioText(c.sizeRatio)})` : ''}`, `${r.file_bytes} bytes`),
        r.params === null ? cell(dash) : cell(countText(r.params), r.params),
        r.macs === null ? cell(dash) : cell(countText(r.macs), r.macs),
        cell(r.int8_choice),
        // The path under the model's own directory (the first column links there); the whole path is the link.
        isRelativePath(r.file) ? { text: r.file.startsWith(`compressed/${r.id}/`) ? r.file.slice(`compressed/${r.id}/`.length) : r.file, href: r.file } : cell(r.file),
      ];
    }),
  };
}

/** The "Deployable variants" section from compression.csv as read. */
export function variantsSection(table: ReportTable): VariantsSection {
  if (table.state === 'unreadable') return { state: 'problem', problem: `${table.file} could not be read: ${table.error}`, raw: table };
  const parsed = typedRows(table, compressionRowSchema);
  if (parsed.state === 'invalid') return { state: 'problem', problem: parsed.problem, raw: table };
  const rows = parsed.rows;
  const fp32Of = (id: string) => rows.find((r) => r.id === id && r.variant === 'fp32');
  const points: VariantPoint[] = rows
    .filter((r): r is CompressionCsvRow & { latency_p50_ms: number } => r.latency_p50_ms !== null)
    .map((r) => {
      const c = changes(r, fp32Of(r.id));
      const step = VARIANT_ORDER.indexOf(r.variant);
      const against = r.variant === 'fp32' || c.sizeRatio === null || c.accuracyChange === null ? null : `${ratioText(c.sizeRatio)} size, ${pointsText(c.accuracyChange)}`;
      const tooltip: Record<string, string> = {
        'front model': r.id,
        variant: VARIANT_NAMES[r.variant],
        'test accuracy': `${percentText(r.test_accuracy)}${r.variant !== 'fp32' && c.accuracyChange !== null ? ` (${pointsText(c.accuracyChange)} vs fp32)` : ''}`,
        latency: `${msText(r.latency_p50_ms)} p50${r.latency_p90_ms === null ? '' : `, ${msText(r.latency_p90_ms)} p90`}${r.variant !== 'fp32' && c.speed !== null ? ` (${ratioText(c.speed)} fp32's)` : ''}`,
        'file size': `${bytesText(r.file_bytes)}${against ? ` (${ratioText(c.sizeRatio!)} fp32's)` : ''}`,
        ...(r.params === null ? {} : { params: countText(r.params) }),
        ...(r.macs === null ? {} : { MACs: countText(r.macs) }),
        ...(r.int8_choice ? { 'INT8 choice': r.int8_choice } : {}),
        file: r.file,
      };
      return {
        id: r.id,
        variant: r.variant,
        variantName: VARIANT_NAMES[r.variant],
        step,
        accuracy: r.test_accuracy * 100,
        latencyP50Ms: r.latency_p50_ms,
        accuracyChange: c.accuracyChange,
        sizeRatio: c.sizeRatio,
        label: r.variant === 'fp32' ? '' : `${VARIANT_NAMES[r.variant]}${fp32Kept(r) ? ' (fp32 kept)' : ''}: ${against ?? ''}`,
        href: hrefOf(r),
        tooltip,
        description: `${r.id} ${VARIANT_NAMES[r.variant]}: ${percentText(r.test_accuracy)} at ${msText(r.latency_p50_ms)}${against ? `, ${against}` : ''}`,
      };
    })
    .sort((a, b) => (a.id === b.id ? a.step - b.step : 0));
  const models = new Set(rows.map((r) => r.id)).size;
  return { state: 'ok', chartSpec: variantsSpec(points, models), table: peopleTable(rows, fp32Of), points, models };
}
