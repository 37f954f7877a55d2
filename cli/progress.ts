/**
 * Progress on stderr: a bar on a terminal; elsewhere (a log file, CI) one
 * line each time another tenth is done, with the count and an ETA, so a long
 * run never stays silent until its end.
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/** Lines a non-terminal gets over a whole run. */
export const PROGRESS_LINES = 10;

/** Seconds as `1h 02m`, `3m 07s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * One line per tenth: `label 230/2300 (10%) | ETA 9m 12s`, payload keys after.
 * The ETA extrapolates the rate since the first update.
 */
export function progressLines(label: string, write: (line: string) => void, now: () => number = () => performance.now()): ProgressBar {
  let first: { at: number; done: number } | null = null;
  let lastStep = -1;
  return {
    update(done, total, payload = {}) {
      first ??= { at: now(), done };
      const step = total > 0 ? Math.floor((done / total) * PROGRESS_LINES) : 0;
      if (step === lastStep) return;
      lastStep = step;
      const rate = (done - first.done) / ((now() - first.at) / 1000);
      const eta = done >= total ? 'done' : rate > 0 ? formatDuration((total - done) / rate) : '?';
      const extra = Object.entries(payload).map(([k, v]) => ` | ${k} ${v}`).join('');
      write(`${label} ${done}/${total} (${total > 0 ? Math.round((done / total) * 100) : 0}%) | ETA ${eta}${extra}`);
    },
    stop() {},
  };
}

/** `format` may use {bar} {percentage} {value} {total} {eta_formatted} and payload keys (terminal only). */
export function progressBar(label: string, format = '{bar} {percentage}% | {value}/{total} | ETA {eta_formatted}'): ProgressBar {
  if (!process.stderr.isTTY) return progressLines(label, (line) => process.stderr.write(`${line}\n`));
  const bar = new cliProgress.SingleBar(
    { format: `${label} ${format}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, payload = {}) {
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
