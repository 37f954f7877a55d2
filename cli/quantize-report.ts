/** The lines `nas quantize` prints for one result: the choice, variants, sizes, accuracy, and float nodes with why. */
import type { AccuracyResult } from '../compress/onnx-eval.js';
import type { QuantizeFileResult } from '../compress/quantize-file.js';
import { quantizeOutput, quantizeOutputLine } from './quantize-output.js';

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const accuracy = (r: AccuracyResult | null) => (r === null ? '—' : r.state === 'measured' ? pct(r.accuracy) : 'skipped');

/** `written`: the line saying what was written (cli/quantize-output.ts); by default as without --out. */
export function quantizeReport(r: QuantizeFileResult, written = quantizeOutputLine(quantizeOutput(r.choice, r.output, undefined))): string[] {
  const lines: string[] = [];
  const p = r.input.plan;
  lines.push(`input ${r.input.name}: ${p.layout}, ${p.channels} channel(s), ${p.height ?? 'any'}×${p.width ?? 'any'}`);
  lines.push(r.choice.state === 'int8' ? `chose INT8 ${r.choice.reason}` : `kept fp32: ${r.choice.reason}`);
  lines.push(written);
  lines.push('| variant | p50 / fp32 | test accuracy | size / fp32 |');
  lines.push('|---|---:|---:|---:|');
  lines.push(`| fp32 | 1.00 | ${accuracy(r.fp32Accuracy)} | 100% |`);
  for (const v of r.variants) lines.push(`| ${v.name} | ${v.latencyRatio === null ? '—' : v.latencyRatio.toFixed(2)} | ${accuracy(v.accuracy)} | ${pct(v.fileBytes / r.fp32Bytes)} |`);
  const skipped = [r.fp32Accuracy, r.int8Accuracy].find((a) => a?.state === 'skipped');
  if (skipped?.state === 'skipped') lines.push(`accuracy skipped: ${skipped.reason}`);
  if (r.size) {
    const s = r.size;
    lines.push(`size${r.output ? '' : ` of variant ${r.shownVariant}`}: ${r.fp32Bytes} → ${r.int8Bytes} bytes (${pct(r.int8Bytes / r.fp32Bytes)}): int8 weights ${kb(s.weights)}, scales/zero points ${kb(s.scalesAndZeroPoints)}, int32 biases ${kb(s.biases)}, float initializers ${kb(s.floatInitializers)}, graph ${kb(s.graph)}`);
  }
  lines.push(`onnxruntime runs ${r.qlinearOps} integer kernels${r.output ? '' : ` in variant ${r.shownVariant}`}: ${Object.entries(r.opTypes).map(([k, v]) => `${k}×${v}`).join(' ')}`);
  if (r.floatNodes.length) {
    lines.push(`${r.floatNodes.length} node(s) stay float:`);
    for (const n of r.floatNodes) lines.push(`  ${n.node} (${n.opType}): ${n.reason}`);
  }
  return lines;
}
