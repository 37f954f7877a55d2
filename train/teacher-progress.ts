/**
 * Teacher progress as lines, with elapsed time and ETA, for logs that are
 * not a terminal (nohup, CI) and for the search's log.
 */
import type { TeacherEpoch, TeacherResult, TeacherSpec } from './teacher-types.js';

/** "1h02m", "4m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * A `teacherLogits` progress callback that calls `line` at each tenth of the
 * work (each epoch of a 10-epoch teacher), so a log never goes quiet for long.
 * Elapsed time and ETA are this session's: a teacher resumed from its
 * checkpoint starts past the work of earlier sessions, so the rate is taken
 * from the first report on, and the tenth it resumed in is not announced again.
 */
export function teacherProgressLines(spec: TeacherSpec, line: (text: string) => void, now: () => number = () => performance.now()): (done: number, total: number) => void {
  const started = now();
  let first: { done: number; at: number } | null = null;
  let reported = 0;
  return (done, total) => {
    const tenths = Math.floor((done / total) * 10 + 1e-9);
    if (!first) {
      first = { done, at: now() };
      // Resumed past a tenth (fresh runs start at 0): that tenth was announced by the session that reached it.
      if (done < total) reported = tenths;
    }
    if (tenths <= reported) return;
    reported = tenths;
    const elapsed = (now() - started) / 1000;
    const eta = done > first.done ? ((now() - first.at) / 1000 / (done - first.done)) * (total - done) : Number.NaN;
    const where = spec.kind === 'trained' ? `epoch ${((done / total) * spec.epochs).toFixed(1)}/${spec.epochs}` : 'logits';
    line(`teacher: ${tenths * 10}% (${where}, ${done}/${total} images), elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`);
  };
}

/**
 * " (trained in 1h52m on <CPU>, 1 thread)" for a teacher trained here whose
 * time is known; "" otherwise. Appended to the lines that report a teacher's
 * accuracy, so its cost is read beside it.
 */
export function teacherTrainingNote(teacher: Pick<TeacherResult, 'trainSeconds' | 'trainedOn'>): string {
  if (teacher.trainSeconds === null) return '';
  return ` (trained in ${formatDuration(teacher.trainSeconds)}${teacher.trainedOn ? ` on ${teacher.trainedOn}` : ''})`;
}

/** "teacher: epoch 3/20, validation 89.12%": one line per epoch of a teacher trained here. */
export function teacherEpochLine(e: TeacherEpoch): string {
  return `teacher: epoch ${e.epoch}/${e.epochs}, validation ${(e.validationAccuracy * 100).toFixed(2)}%`;
}

/**
 * "validation after each epoch: 85.1 87.7 … 92.3%" for a teacher trained
 * here with a recorded curve; null otherwise. Under a cosine schedule the
 * last epochs gain the most, so a curve still rising at its end says that a
 * longer schedule would pay.
 */
export function validationCurveLine(teacher: Pick<TeacherResult, 'validationCurve'>): string | null {
  const curve = teacher.validationCurve;
  if (!curve?.length) return null;
  return `validation after each epoch: ${curve.map((a) => (a * 100).toFixed(1)).join(' ')}%`;
}
