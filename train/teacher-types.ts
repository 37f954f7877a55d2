/** Contracts of the teacher: which one, what it yields, how it fails. */
import type { Genome } from '../space/types.js';
import type { TeacherLogits } from './training-loop.js';
import type { InputScale } from './input-adapter.js';
import { CodedError } from '../errors.js';

/**
 * Architectures a teacher trained here can have: the space's widest genome,
 * or one of the hand-designed baselines that are genomes (space/baselines.ts).
 */
export const TEACHER_ARCHITECTURES = ['widest', 'mobilenetv3-small', 'mobilenetv2-x0.35', 'mobilenetv2-x0.5', 'mobilenetv2-x0.75', 'mobilenetv2-x1.0'] as const;
/** One of TEACHER_ARCHITECTURES. */
export type TeacherArchitecture = (typeof TEACHER_ARCHITECTURES)[number];
/**
 * The architecture a teacher gets when the config names none: MobileNetV3-small,
 * the most accurate per CPU-hour in bench:teacher-choice on full Fashion-MNIST
 * (ahead of the widest genome by 0.6–1.5 test points at 10, 30 and 60 CPU minutes,
 * at 1.4× its training rate; docs/bench/teacher-choice.md).
 */
export const DEFAULT_TEACHER_ARCHITECTURE: TeacherArchitecture = 'mobilenetv3-small';

/**
 * Epochs and data-parallel threads of a teacher trained here when nothing
 * says otherwise (`nas teacher --train`, the overnight preset, the benches):
 * 20 epochs on 2 threads reached 93.54% test on full Fashion-MNIST in 1 h 45 min
 * on a 2-vCPU Xeon, about the wall time of 10 epochs on one thread (≈ 1.6 h),
 * which stop near 93%. Two threads rather than every core: the thread count
 * changes the weights (each shard's own batch statistics) and is part of the
 * cache key, so a fixed count gives the same teacher on every machine.
 */
export const DEFAULT_TEACHER_EPOCHS = 20;
export const DEFAULT_TEACHER_THREADS = 2;

/** Which teacher: a user's ONNX file, or one trained here. */
export type TeacherSpec =
  | {
      kind: 'onnx';
      path: string;
      inputScale?: InputScale;
      layout?: 'NCHW' | 'NHWC';
      /** onnxruntime intra-op threads; not part of the cache key (the logits do not depend on it). @default 0: one per core */
      threads?: number;
    }
  | {
      kind: 'trained';
      /** What the architecture is called (`widest`, `mobilenetv3-small`, …): for messages; the key uses the genome and strides. */
      architecture?: string;
      genome: Genome;
      strides: { stem: number; stages: number[] };
      epochs: number;
      seed: number;
      /**
       * Threads training it, data-parallel (train/data-parallel.ts). Part of
       * the cache key when above 1: the logits depend on it. @default 1
       */
      threads?: number;
    };

/** Teacher logits plus what a user wants to know of the teacher. */
export interface TeacherResult extends TeacherLogits {
  key: string;
  testAccuracy: number;
  description: string;
  /**
   * A teacher trained here: its training wall time in seconds, summed over
   * resumed sessions, and where (`trainedOn`: CPU model and threads). Null
   * for an ONNX teacher, and for cache entries written before they were recorded.
   */
  trainSeconds: number | null;
  trainedOn: string | null;
  /**
   * A teacher trained here: its validation accuracy (0–1, onnxruntime, the
   * held-out split) after each epoch, resumed sessions included, so a user
   * sees whether more epochs would have paid. Null for an ONNX teacher and
   * for cache entries written before it was recorded.
   */
  validationCurve: number[] | null;
  fromCache: boolean;
}

/** What a teacher trained here reports after each epoch. */
export interface TeacherEpoch {
  epoch: number;
  epochs: number;
  /** On the held-out validation split, 0–1. */
  validationAccuracy: number;
}

/** A teacher that cannot be used (file, shape, classes); exits with code 5 in the CLI. */
export class TeacherError extends CodedError {
  readonly code = 'E_TEACHER';
}
