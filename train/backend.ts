/**
 * The one place that picks the tfjs backend: `node` when @tensorflow/tfjs-node
 * loads (an optional dependency whose install needs a download), else `wasm`
 * (XNNPACK with our training kernels), else the pure-JS `cpu` as a last resort.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerTrainingKernels } from './kernels/register.js';
import { enableSimdKernels, type WasmHeapBackend } from './kernels/simd.js';
import { CodedError } from '../errors.js';

/** Backends this package can train on, fastest first. */
export const BACKENDS = ['node', 'wasm', 'cpu'] as const;
/** One of {@link BACKENDS}. */
export type BackendName = (typeof BACKENDS)[number];

/** What was chosen and why; recorded with every training result. */
export interface BackendChoice {
  name: BackendName;
  /** Why this backend: requested, or which faster ones failed to load. */
  reason: string;
  tfjsVersion: string;
  /** wasm only: whether the SIMD training kernels run, or why not. */
  simdKernels?: 'enabled' | string;
}

async function tryLoad(name: BackendName): Promise<string | null> {
  try {
    if (name === 'node') {
      const moduleName = '@tensorflow/tfjs-node';
      await import(moduleName);
      // tfjs-node registers itself as 'tensorflow'.
      return (await tf.setBackend('tensorflow')) ? null : 'tensorflow backend did not initialise';
    }
    if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await import('@tensorflow/tfjs-backend-cpu');
    registerTrainingKernels();
    if (!(await tf.setBackend(name))) return `${name} backend did not initialise`;
    await tf.ready();
    // The cpu backend prints an advert for tfjs-node on first use; the choice
    // of backend is reported by the caller instead.
    if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

let current: BackendChoice | null = null;

async function describe(name: BackendName, reason: string): Promise<BackendChoice> {
  const choice: BackendChoice = { name, reason, tfjsVersion: tf.version_core };
  if (name === 'wasm') {
    const failure = await enableSimdKernels(tf.backend() as unknown as WasmHeapBackend);
    choice.simdKernels = failure === null ? 'enabled' : `off: ${failure}`;
  }
  return choice;
}

/** A requested backend that does not load, or none at all. */
export class BackendError extends CodedError {
  readonly code = 'E_BACKEND';
}

/**
 * Selects and initialises a backend. With `requested` it is that one or an
 * error; without, the first of {@link BACKENDS} that loads. Repeated calls
 * return the first choice unless a different backend is requested.
 */
export async function selectBackend(requested?: BackendName | 'auto'): Promise<BackendChoice> {
  if (current && (requested === undefined || requested === 'auto' || requested === current.name)) return current;
  if (requested && requested !== 'auto') {
    const failure = await tryLoad(requested);
    if (failure) throw new BackendError(`--backend ${requested}: not available here: ${failure}`);
    current = await describe(requested, 'requested');
    return current;
  }
  const failures: string[] = [];
  for (const name of BACKENDS) {
    const failure = await tryLoad(name);
    if (!failure) {
      const reason = failures.length ? `first that loaded (${failures.join('; ')})` : 'first that loaded';
      current = await describe(name, reason);
      return current;
    }
    failures.push(`${name}: ${failure}`);
  }
  throw new BackendError(`no tfjs backend could be initialised: ${failures.join('; ')}`);
}
