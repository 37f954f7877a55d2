import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../cli/index.js';
import { quantizeOutput, quantizeOutputLine } from '../../cli/quantize-output.js';

const model = join(import.meta.dirname, '..', 'fixtures', 'torch', 'tiny-resnet-28-c10-opset13.onnx');
const fp32Kept = { state: 'fp32' as const, reason: 'no INT8 variant beats fp32 on this machine (fastest: all at 1.10× fp32\'s time): fp32 kept' };
const int8 = { state: 'int8' as const, variant: 'all', latencyRatio: 0.6, accuracyDrop: 0.1, reason: 'all: fastest' };

describe('nas quantize writes the model it chose', () => {
  it('INT8 where it won; when fp32 won, a copy of fp32 at --out, and nothing without --out', () => {
    expect(quantizeOutput(int8, 'q.onnx', 'q.onnx')).toEqual({ state: 'int8', path: 'q.onnx', variant: 'all' });
    expect(quantizeOutput(fp32Kept, null, 'q.onnx')).toEqual({ state: 'fp32-copy', path: 'q.onnx', reason: fp32Kept.reason });
    expect(quantizeOutput(fp32Kept, null, undefined)).toEqual({ state: 'none', reason: fp32Kept.reason });
    expect(quantizeOutputLine(quantizeOutput(fp32Kept, null, 'q.onnx'))).toBe(`wrote q.onnx: the fp32 model, unchanged, because INT8 lost (${fp32Kept.reason})`);
  });

  it('CLI: with INT8 made to lose (--max-latency-ratio 0.01), --out holds the fp32 model byte for byte, and --json says so', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'quantize-out-')), 'q.onnx');
    const program = buildProgram();
    for (const c of [program, ...program.commands]) c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    const stdout: string[] = [];
    const stderr: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (stdout.push(String(chunk)), true));
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void stdout.push(String(line)));
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void stderr.push(String(line)));
    const before = process.exitCode;
    try {
      await program.parseAsync(['node', 'nas', 'quantize', model, '--data', 'fashion-mnist-sample', '--calibration', '32', '--max-latency-ratio', '0.01', '--out', out, '--json']);
      expect(process.exitCode ?? 0, stderr.join('\n')).toBe(0);
    } finally {
      write.mockRestore();
      log.mockRestore();
      error.mockRestore();
      process.exitCode = before;
    }
    const doc = JSON.parse(stdout.join(''));
    expect(doc).toMatchObject({ model, output: out, outputModel: 'fp32', choice: { state: 'fp32' } });
    expect(readFileSync(out).equals(readFileSync(model))).toBe(true);
    expect(stderr.join('\n')).toContain(`wrote ${out}: the fp32 model, unchanged, because INT8 lost`);
  });
});
