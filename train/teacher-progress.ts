/**
 * Teacher progress as lines: one per epoch of a trained teacher (one per
 * quarter for an ONNX teacher's inference), with elapsed time and ETA, for
 * logs that are not a terminal (nohup, CI) and for the search's log.
 */
import type { TeacherSpec } from './teacher-types.js';

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

/** A `teacherLogits` progress callback that calls `line` at each epoch (or quarter) boundary. */
export function teacherProgressLines(spec: TeacherSpec, line: (text: string) => void, now: () => number = () => performance.now()): (done: number, total: number) => void {
  const steps = spec.kind === 'trained' ? spec.epochs : 4;
  const unit = spec.kind === 'trained' ? 'epoch' : 'quarter';
  const started = now();
  let reported = 0;
  return (done, total) => {
    const reached = Math.floor((done / total) * steps + 1e-9);
    if (reached <= reported) return;
    reported = reached;
    const elapsed = (now() - started) / 1000;
    const eta = (elapsed / done) * (total - done);
    line(`teacher: ${unit} ${reached}/${steps} (${done}/${total} images), elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`);
  };
}
