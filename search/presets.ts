/**
 * Ready-made search configurations: the quickstart that `nas search` runs
 * with no arguments (minutes, on the bundled sample), and the documented
 * overnight run on the full Fashion-MNIST.
 */
import type { SearchConfigInput } from './config.js';
import { DEFAULT_TEACHER_EPOCHS, DEFAULT_TEACHER_THREADS } from '../train/teacher-types.js';

/** A short search on the bundled sample: 3 generations of 8, 1 epoch on 2,000 images each. */
export const QUICKSTART: SearchConfigInput = {
  name: 'quickstart',
  data: 'fashion-mnist-sample',
  searcher: { algorithm: 'nsga2', population: 8 },
  budget: { generations: 3 },
  training: { epochs: 1, subset: 2000 },
  teacher: { train: { epochs: 2 } },
  latency: { iterations: 100, time: 300 },
};

/**
 * Overnight on the full Fashion-MNIST (apt-get install dataset-fashion-mnist):
 * NSGA-II, 24 per generation, 8 hours or 1,000 candidates, each trained for
 * one epoch on a fixed 8,000-image subset with a teacher trained here first
 * (MobileNetV3-small, 20 epochs on 2 threads: 93.5% test, ≈ 1 h 45 min on 2 cores),
 * models under 1 ms p50 on this machine. The subset size is what
 * keeps two cores above 120 candidates an hour. Multi-fidelity: the best
 * third of each rung trains on to 3× and 9× the images (24,000 and 72,000:
 * more epochs of the same subset, whose data order the checkpoint carries),
 * which costs about 2.3× the compute of the first trainings alone.
 */
export const OVERNIGHT: SearchConfigInput = {
  name: 'overnight-fashion-mnist',
  data: 'fashion-mnist',
  searcher: { algorithm: 'nsga2', population: 24 },
  budget: { evaluations: 1000, time: '8h' },
  constraints: { maxLatencyMs: 1 },
  training: { epochs: 1, subset: 8000 },
  fidelity: { rungs: 3, eta: 3 },
  teacher: { train: { epochs: DEFAULT_TEACHER_EPOCHS, threads: DEFAULT_TEACHER_THREADS } },
  latency: { iterations: 100, time: 500, predictorSlack: 1.5 },
};

/** The configurations `nas search --preset` offers, by name. */
export const PRESETS = { quickstart: QUICKSTART, overnight: OVERNIGHT } as const;
