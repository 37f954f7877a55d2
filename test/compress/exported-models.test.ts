import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeReport } from '../../cli/quantize-report.js';
import { adaptedBatches, modelInput } from '../../compress/calibration-data.js';
import { decodeModel } from '../../onnx/model.js';
import { quantizeFile } from '../../compress/quantize-file.js';
import { floatNodesAfterOptimisation, optimisedOpTypes, quantizeModel, type CalibrationBatch } from '../../onnx/quantize.js';
import { sizeBreakdown } from '../../onnx/size-breakdown.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, type PreparedData } from '../../train/datasets/prepared.js';
import { onnxFullCheck } from '../helpers.js';

// Written by test/fixtures/make-torch-models.py (PyTorch's exporter, random weights).
const fixture = (name: string) => join(__dirname, '..', 'fixtures', 'torch', name);
const MOBILENET = fixture('mobilenet_v2-0.35-32-c100-opset13.onnx');
let data: PreparedData;

beforeAll(() => {
  data = prepareData(loadDataset());
});

const opCount = (bytes: Uint8Array, op: string) => (decodeModel(bytes, 'm').graph!.node ?? []).filter((n) => n.opType === op).length;

/** Fashion-MNIST images (1 channel, 28 px) adapted to the model's input. */
async function calibration(bytes: Uint8Array): Promise<CalibrationBatch[]> {
  return adaptedBatches(data.train, 64, modelInput(bytes, 'model').plan, data, 'imagenet');
}

describe('INT8 of PyTorch-exported models: every Conv and Gemm fused, graph valid', () => {
  it('MobileNetV2 (Clip with Constant bounds, Identity-shared weights, Flatten + Gemm): 52 QLinearConv, QGemm, nothing left float', async () => {
    const fp32 = readFileSync(MOBILENET);
    const batches = await calibration(fp32);
    // 1-channel 28 px data reaches the 3-channel 32 px model through the adapter: resized, channels replicated.
    expect(batches[0].dims).toEqual([32, 3, 32, 32]);
    const plane = 32 * 32;
    for (const p of [0, 100, 517]) expect(batches[0].data[p]).not.toBe(batches[0].data[plane + p]); // ImageNet scale differs per channel…
    const unit = await adaptedBatches(data.train, 1, modelInput(fp32, 'm').plan, data, 'unit');
    for (const p of [0, 100, 517]) expect(unit[0].data[plane + p]).toBe(unit[0].data[p]); // …but the pixels are the same

    const { bytes, report } = await quantizeModel(fp32, 'mobilenet', batches);
    onnxFullCheck(bytes);
    expect(report.normalised).toEqual({ constantsFolded: opCount(fp32, 'Constant'), identitiesBypassed: opCount(fp32, 'Identity') });
    expect(report.float).toEqual([]);
    const ops = await optimisedOpTypes(bytes);
    expect(ops.QLinearConv).toBe(opCount(fp32, 'Conv'));
    expect(ops.QLinearConv).toBe(52);
    expect(ops.QGemm).toBe(1);
    expect(ops.QLinearAdd).toBe(10);
    expect(ops.Conv ?? 0).toBe(0);
    expect(ops.Gemm ?? 0).toBe(0);
    expect(ops.Clip ?? 0).toBe(0);
    expect(await floatNodesAfterOptimisation(bytes)).toEqual([]);

    const size = sizeBreakdown(bytes);
    expect(size.weights + size.scalesAndZeroPoints + size.biases + size.floatInitializers + size.graph).toBe(bytes.length);
    // One byte per fp32 weight element: a quarter of the fp32 weights.
    const fp32Weights = (decodeModel(fp32, 'm').graph!.initializer ?? []).filter((t) => t.dims!.length >= 2).reduce((n, t) => n + t.rawData!.length / 4, 0);
    expect(size.weights).toBe(fp32Weights);
    // Every bias became int32 (shared biases, as PyTorch shares zero biases through Identity nodes, get one copy per conv).
    const biasElements = (decodeModel(fp32, 'm').graph!.node ?? []).filter((n) => n.opType === 'Conv' || n.opType === 'Gemm').length;
    expect(size.biases).toBeGreaterThan(4 * biasElements);
    expect(size.floatInitializers).toBeLessThan(1024);
    expect(bytes.length / fp32.length).toBeLessThan(0.33); // measured 31.8%
    const perTensor = await quantizeModel(fp32, 'mobilenet', batches, { perChannel: false });
    expect(perTensor.bytes.length / fp32.length).toBeLessThan(0.3); // measured 28.9%
  });

  it.each(['tiny-resnet-28-c10-opset13.onnx', 'tiny-resnet-28-c10-opset17.onnx'])('%s (residual Add, MaxPool, Sigmoid gate, Hardswish): fused, and the float nodes are named with why', async (file) => {
    const fp32 = readFileSync(fixture(file));
    const { bytes, report } = await quantizeModel(fp32, file, await calibration(fp32));
    onnxFullCheck(bytes);
    const ops = await optimisedOpTypes(bytes);
    expect(ops.QLinearConv).toBe(opCount(fp32, 'Conv'));
    expect(ops.QGemm).toBe(1);
    expect(ops.QLinearAdd).toBe(2);
    expect(ops.QLinearSigmoid).toBe(1);
    expect(ops.Conv ?? 0).toBe(0);
    expect(ops.MaxPool ?? 0).toBe(0); // runs on uint8 (NhwcMaxPool) between shared scales
    expect(await floatNodesAfterOptimisation(bytes)).toEqual([]);
    const hardswish = file.includes('opset17') ? 'HardSwish' : 'HardSigmoid'; // opset 13 has no HardSwish
    expect(report.float).toContainEqual({ node: `/b1/b1.2/${hardswish}`, opType: hardswish, reason: `onnxruntime's CPU provider has no integer ${hardswish}; it runs in float between its neighbours' QDQ pairs` });
  });

  it('opset 10 (Clip bounds as attributes): per-tensor weights, every Conv and the Gemm fused, Clip removed', async () => {
    const fp32 = readFileSync(fixture('relu6-net-28-c10-opset10.onnx'));
    const { bytes, report } = await quantizeModel(fp32, 'relu6', await calibration(fp32));
    onnxFullCheck(bytes);
    expect(report.perChannel).toBe(false);
    const ops = await optimisedOpTypes(bytes);
    expect(ops.QLinearConv).toBe(3);
    expect(ops.QGemm).toBe(1);
    expect((ops.Conv ?? 0) + (ops.Clip ?? 0)).toBe(0);
  });

  it('a variant keeping kinds in float leaves exactly those nodes float where they form islands, each named', async () => {
    const fp32 = readFileSync(MOBILENET);
    const keepFloat = ['depthwise-conv', 'pointwise-conv', 'gemm', 'elementwise', 'pool'] as const;
    const { bytes, report } = await quantizeModel(fp32, 'mobilenet', await calibration(fp32), { keepFloat: [...keepFloat] });
    const ops = await optimisedOpTypes(bytes);
    expect(ops.QLinearConv).toBe(1); // the stem, MobileNetV2's only dense 3×3 convolution
    expect(ops.Conv).toBe(51);
    expect(report.float.filter((f) => f.opType === 'Conv' && / kept in float by this variant$/.test(f.reason))).toHaveLength(51);
    // Between quantized neighbours onnxruntime quantizes a float Conv's weights itself, so depthwise alone cannot stay float.
    expect((await optimisedOpTypes((await quantizeModel(fp32, 'mobilenet', await calibration(fp32), { keepFloat: ['depthwise-conv'] })).bytes)).QLinearConv).toBe(52);
  });
});

describe('nas quantize on a model whose classes differ from the data', () => {
  it('writes the INT8 file and reports "accuracy skipped" instead of crashing', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'quantize-')), 'mobilenet.int8.onnx');
    const r = await quantizeFile(MOBILENET, { measure: false, inputScale: 'imagenet', calibrationImages: 64, out }, data);
    const reason = 'the model has 100 outputs and the data 10 classes: accuracy not checked';
    expect(r.fp32Accuracy).toEqual({ state: 'skipped', reason });
    expect(r.int8Accuracy).toEqual({ state: 'skipped', reason });
    expect(r.output).toBe(out);
    onnxFullCheck(readFileSync(out));
    const lines = quantizeReport(r);
    expect(lines).toContain(`accuracy skipped: ${reason}`);
    expect(lines).toContain('input input: NCHW, 3 channel(s), 32×32');
    expect(lines.some((l) => /^size: 2092099 → \d+ bytes \(3\d\.\d\d%\): int8 weights /.test(l))).toBe(true);
  });
});
