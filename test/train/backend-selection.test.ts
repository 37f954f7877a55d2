import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';

describe('backend selection', () => {
  it('auto picks the first that loads; here tfjs-node cannot, so wasm, and says why', async () => {
    const choice = await selectBackend();
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(/^first that loaded \(node: /);
    expect(choice.simdKernels).toBe('enabled');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an explicit request is honoured, or fails naming the backend', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await expect(selectBackend('node')).rejects.toThrow(/backend 'node' is not available here/);
    expect((await selectBackend('wasm')).reason).toBe('requested');
  });
});
