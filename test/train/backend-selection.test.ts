import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';

describe('backend selection', () => {
  it('auto picks the first that loads (node, else wasm) and says why the others did not', async () => {
    // tfjs-node is optional: whether it loads depends on the machine, the rule does not.
    const nodeLoads = await import('@tensorflow/tfjs-node').then(
      () => true,
      () => false,
    );
    const choice = await selectBackend();
    if (nodeLoads) {
      expect(choice.name).toBe('node');
      expect(tf.getBackend()).toBe('tensorflow');
    } else {
      expect(choice.name).toBe('wasm');
      expect(choice.reason).toMatch(/^first that loaded \(node: /);
      expect(choice.simdKernels).toBe('enabled');
      expect(tf.getBackend()).toBe('wasm');
    }
  });

  it('an explicit request is honoured, or fails naming the backend', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend('wasm')).reason).toBe('requested');
    // A backend that cannot load is refused naming the flag, with its own exit code.
    const missing = await selectBackend('node').then(() => null, (e: Error & { code?: string }) => e);
    if (missing) {
      expect(missing.message).toMatch(/^--backend node: not available here/);
      expect(missing.code).toBe('E_BACKEND');
    }
  });
});
