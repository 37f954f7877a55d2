/**
 * Figures as a person reads them on report.html: percentages with one
 * decimal, milliseconds to 3 significant figures, sizes in KB/MB, ratios as
 * ×. The CSV files keep the raw values; these strings are only for the page.
 * Pure functions, so the page's cells and the tests agree on one spelling.
 */

/** The minus sign a reader expects (U+2212), not a hyphen. */
const MINUS = '\u2212';

const signed = (text: string, value: number) => (value > 0 ? `+${text}` : value < 0 ? `${MINUS}${text}` : text);

/** A fraction 0–1 as a percentage with one decimal: 0.9093 → "90.9%". */
export function percentText(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** A 95% interval of fractions, one decimal: "90.3–91.5%". */
export function intervalText(low: number, high: number): string {
  return `${(low * 100).toFixed(1)}–${(high * 100).toFixed(1)}%`;
}

/** A change of a fraction in percentage points, signed, one decimal: −0.0042 → "−0.4 pt". */
export function pointsText(change: number): string {
  const text = `${Math.abs(change * 100).toFixed(1)} pt`;
  return Number((change * 100).toFixed(1)) === 0 ? `±${text}` : signed(text, change);
}

/** Three significant figures, trailing zeros kept (0.180), without exponent notation; whole numbers from 1000 up, grouped. */
function threeFigures(value: number): string {
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

/** Up to three significant figures, trailing zeros dropped: for counts, where 2.6M reads better than 2.60M. */
const shortFigures = (value: number) => String(Number(value.toPrecision(3)));

/** Milliseconds to 3 significant figures: 0.16723 → "0.167 ms", 0.1804 → "0.180 ms", 12.345 → "12.3 ms". */
export function msText(ms: number): string {
  return `${threeFigures(ms)} ms`;
}

/** A file size in KB or MB (1 KB = 1000 bytes), 3 significant figures: 412345 → "412 KB". */
export function bytesText(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${threeFigures(bytes / 1e3)} KB`;
  return `${threeFigures(bytes / 1e6)} MB`;
}

/** A ratio with two decimals and ×: 0.4012 → "0.40×". */
export function ratioText(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** A count, short: 980 → "980", 216140 → "216k", 4712000 → "4.71M". */
export function countText(n: number): string {
  if (Math.abs(n) < 1000) return String(n);
  if (Math.abs(n) < 1e6) return `${shortFigures(n / 1e3)}k`;
  return `${shortFigures(n / 1e6)}M`;
}
