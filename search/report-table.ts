/**
 * Tables of report.html as people read them, and the edge where another
 * stage's CSV (as strings) becomes typed rows: each known file is checked
 * with zod, and a bad cell is reported by file, row and column, so the page
 * can say what is wrong and still show the raw table.
 */
import { z } from 'zod';

/** A CSV another stage wrote, as read; absent files are simply left out. */
export type ReportTable =
  | { state: 'present'; file: string; columns: string[]; rows: string[][] }
  | { state: 'unreadable'; file: string; error: string };

/** One cell for people: the text shown, the raw CSV value behind it (shown on hover), a relative link. */
export interface PeopleCell {
  text: string;
  raw?: string;
  href?: string;
}

/** A table for people: formatted cells under plain headings; the CSV it came from is linked beside it. */
export interface PeopleTable {
  file: string;
  columns: ReadonlyArray<{ title: string; numeric: boolean }>;
  rows: PeopleCell[][];
}

/** A required number cell. */
export const numberCell = z.string().trim().min(1, 'is empty').transform(Number).refine(Number.isFinite, 'expected a number');
/** A number cell that may be empty (a latency that could not be measured, a teacher's params). */
export const optionalNumberCell = z
  .string()
  .trim()
  .transform((s) => (s === '' ? null : Number(s)))
  .refine((v) => v === null || Number.isFinite(v), 'expected a number or nothing');

/** A safe relative path: no scheme, no root, no `..`. */
export const isRelativePath = (cell: string) => /^[\w.+-]+(\/[\w.+-]+)*\/?$/.test(cell) && !cell.split('/').includes('..');

/** A present table's rows checked against `schema`, or the first problem named by file, row (1 = first data row) and column. */
export function typedRows<T>(table: Extract<ReportTable, { state: 'present' }>, schema: z.ZodType<T>): { state: 'ok'; rows: T[] } | { state: 'invalid'; problem: string } {
  const rows: T[] = [];
  for (const [i, cells] of table.rows.entries()) {
    const record = Object.fromEntries(table.columns.map((c, j) => [c, cells[j] ?? '']));
    const parsed = schema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const column = issue.path.join('.') || '(row)';
      const missing = issue.code === 'invalid_type' && !table.columns.includes(String(issue.path[0]));
      return { state: 'invalid', problem: `${table.file} row ${i + 1}, column ${column}: ${missing ? 'no such column' : issue.message}` };
    }
    rows.push(parsed.data);
  }
  return { state: 'ok', rows };
}
