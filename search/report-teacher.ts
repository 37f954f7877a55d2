/**
 * The teacher in report.html's header: how accurate it is and where it came
 * from (a user's ONNX file, or trained here with its architecture, epochs and
 * training time), so a reader weighs the students against it at a glance.
 * Pure: report.ts gathers the facts from config.json, the teacher cache's
 * metadata and finalized.csv's teacher row.
 */
import { formatDuration } from '../train/teacher-progress.js';
import { intervalText, percentText } from './report-format.js';

/** What a run records of its teacher; every figure may be missing (a copied run directory has no cache). */
export interface TeacherFacts {
  /** From config.json's `teacher`. */
  source:
    | { kind: 'onnx'; path: string }
    | { kind: 'trained'; architecture: string; epochs: number; threads: number };
  /** Test accuracy 0–1, with its 95% interval when finalized.csv gives one. */
  accuracy: number | null;
  interval: { low: number; high: number; images: number | null } | null;
  /** Training wall time of a teacher trained here, seconds, and on what CPU. */
  trainSeconds: number | null;
  trainedOn: string | null;
  /** Whether the run used the teacher's logits (a proxy-evaluated search does not). */
  used: boolean;
}

/** "Teacher: 93.1% test accuracy (92.6–93.6%, 10,000 images); trained here: mobilenetv3-small, 20 epochs on 2 threads, in 1h52m on …". */
export function teacherHeadline(teacher: TeacherFacts | null): string {
  if (teacher === null) return 'Teacher: none (plain training, no distillation)';
  const s = teacher.source;
  const accuracy = teacher.accuracy === null
    ? 'test accuracy not recorded (no teacher-cache entry or finalized.csv row for it)'
    : `${percentText(teacher.accuracy)} test accuracy${teacher.interval ? ` (95% interval ${intervalText(teacher.interval.low, teacher.interval.high)}${teacher.interval.images ? ` on ${teacher.interval.images.toLocaleString('en-US')} images` : ''})` : ''}`;
  const source = s.kind === 'onnx'
    ? `ONNX file ${s.path}`
    // trainedOn names the CPU and the threads ("AMD EPYC 9B45, 2 threads"); without it the config's threads are said.
    : `trained here: ${s.architecture}, ${s.epochs} epochs${s.threads > 1 && !teacher.trainedOn ? ` on ${s.threads} threads` : ''}${teacher.trainSeconds === null ? '' : `, in ${formatDuration(teacher.trainSeconds)}`}${teacher.trainedOn ? ` on ${teacher.trainedOn}` : ''}`;
  return `Teacher: ${accuracy}; ${source}${teacher.used ? '' : ' (configured, but this run\'s evaluator used no teacher)'}`;
}
