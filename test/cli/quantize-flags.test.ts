import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../cli/index.js';

/** Runs `nas quantize …` and returns what it printed on stderr and the exit code it set. */
async function quantize(...args: string[]): Promise<{ stderr: string; exitCode: number | undefined }> {
  const program = buildProgram();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const errors: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(String(line)));
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'nas', 'quantize', ...args]);
    return { stderr: errors.join('\n'), exitCode: process.exitCode === undefined ? undefined : Number(process.exitCode) };
  } finally {
    spy.mockRestore();
    process.exitCode = before;
  }
}

describe('nas quantize flags', () => {
  it('a bad --input-scale, --layout or --max-accuracy-drop is named with what was expected', async () => {
    expect(await quantize('m.onnx', '--input-scale', 'percent')).toEqual({ stderr: "error: --input-scale must be one of standardised, unit, imagenet, raw, got 'percent'", exitCode: 2 });
    expect(await quantize('m.onnx', '--layout', 'CHW')).toEqual({ stderr: "error: --layout must be NCHW or NHWC, got 'CHW'", exitCode: 2 });
    const program = buildProgram();
    for (const command of [program, ...program.commands]) command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    await expect(program.parseAsync(['node', 'nas', 'quantize', 'm.onnx', '--max-accuracy-drop', '-1'])).rejects.toThrow('--max-accuracy-drop must be ≥ 0');
  });

  it('a missing model and missing calibration data are one line each, with the compress exit code', async () => {
    expect(await quantize('/nope/model.onnx')).toEqual({ stderr: 'error: /nope/model.onnx: file not found', exitCode: 9 });
    const model = join(__dirname, '..', 'fixtures', 'torch', 'relu6-net-28-c10-opset10.onnx');
    expect(await quantize(model, '--calibration-data', '/nope/images')).toEqual({
      stderr: 'error: /nope/images: not found; expected a directory of PNG/JPEG images or a .npy/.npz tensor',
      exitCode: 9,
    });
  });
});
