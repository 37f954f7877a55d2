import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planConvs, planCost, planNetwork } from '../../space/plan.js';
import { selectBackend } from '../../train/backend.js';
import { REFERENCE_DATA, REFERENCE_GENOME, REFERENCE_STRIDES } from '../../bench/reference-net.js';
import { kernelLabel, kernelWork, profileTrainingSteps, type MachineBounds } from '../../bench/train-profile.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('work per kernel', () => {
  it('counts convolution and matrix-product FLOPs from shapes', () => {
    // 3×3 conv, 8 → 16 channels, output 2×5×5: 2·(2·5·5·16)·(3·3·8) FLOPs.
    expect(kernelWork('Conv2D', [[2, 5, 5, 8], [3, 3, 8, 16]], [[2, 5, 5, 16]]).flops).toBe(2 * 800 * 72);
    // Its filter gradient (x, dy → filter) does the same arithmetic.
    expect(kernelWork('Conv2DBackpropFilter', [[2, 5, 5, 8], [2, 5, 5, 16]], [[3, 3, 8, 16]]).flops).toBe(2 * 800 * 72);
    expect(kernelWork('DepthwiseConv2dNative', [[2, 5, 5, 8], [3, 3, 8, 1]], [[2, 5, 5, 8]]).flops).toBe(2 * 400 * 9);
    // [1, 4, 6] × [1, 6, 3] whichever operand is stored transposed.
    expect(kernelWork('BatchMatMul', [[1, 6, 4], [1, 6, 3]], [[1, 4, 3]]).flops).toBe(2 * 12 * 6);
    expect(kernelWork('Relu', [[2, 3]], [[2, 3]])).toEqual({ flops: null, bytes: 48 });
    expect(kernelWork('Identity', [[2, 3]], [[2, 3]]).bytes).toBe(0);
    expect(kernelLabel('Conv2DBackpropInput', [[2, 5, 5, 16], [3, 3, 3, 16]], [[2, 5, 5, 3]])).toBe('Conv2DBackpropInput 3×3 stem');
  });
});

describe('profile of a training step', () => {
  it('finds every layer of the reference net in its phase, with the net\'s MACs', async () => {
    const plan = planNetwork(REFERENCE_GENOME, REFERENCE_STRIDES, REFERENCE_DATA);
    const model = buildTfjsModel(plan, 1);
    const batch = 4;
    const x = tf.randomNormal([batch, 32, 32, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10);
    const bounds: MachineBounds = { cpu: 'test', mhz: 1000, peakGflops: 16, cacheGBs: 20, memoryGBs: 5 };
    const profile = await profileTrainingSteps(model, x, y, tf.train.momentum(0.01, 0.9), 2, bounds);
    const calls = (phase: string, pattern: RegExp) => profile.rows.filter((r) => r.phase === phase && pattern.test(r.kernel)).reduce((a, r) => a + r.callsPerStep, 0);
    const convs = planConvs(plan);
    const depthwise = convs.filter((c) => c.depthwise).length;
    expect(calls('forward', /^DepthwiseConv2dNative /)).toBe(depthwise);
    expect(calls('forward', /^(Fused)?Conv2D /)).toBe(convs.length - depthwise);
    expect(calls('backward', /^Conv2DBackpropFilter /)).toBe(convs.length - depthwise);
    expect(calls('backward', /^DepthwiseConv2dNativeBackpropFilter /)).toBe(depthwise);
    expect(calls('backward', /^NasBatchNormTrainingGrad$/)).toBe(convs.length);
    expect(calls('forward', /BackpropFilter/)).toBe(0);
    expect(calls('optimizer', /.*/)).toBeGreaterThan(0);
    // Forward FLOPs of convolutions and the classifier: twice the analytic MACs per image.
    const forwardGflop = profile.rows.filter((r) => r.phase === 'forward' && r.gflops !== null).reduce((a, r) => a + r.gflops! * (r.msPerStep / 1000), 0);
    expect(forwardGflop * 1e9).toBeCloseTo(2 * planCost(plan).macs * batch, -3);
    const shares = profile.rows.reduce((a, r) => a + r.share, 0) + profile.outsideKernelsMs / profile.stepMs;
    expect(shares).toBeCloseTo(1, 6);
    tf.dispose([x, y]);
    model.dispose();
  });
});
