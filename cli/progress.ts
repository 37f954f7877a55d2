/**
 * Progress on stderr for long work. On a terminal: a cli-progress bar
 * redrawn in place. Anywhere else (nohup, CI, a service, a log file): one
 * line per unit of work with elapsed time and ETA, because a redrawn bar
 * leaves nothing readable in a log and silence for an hour reads as a hang.
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  /** One unit of work done: `done` of `total`; `note` says what it was (lines mode). */
  update(done: number, total: number, payload?: Record<string, string | number>, note?: string): void;
  /** A line of its own, printed above the bar on a terminal. */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Bar format: {bar} {percentage} {value} {total} {eta_formatted} and payload keys. */
  format?: string;
  /** Force lines (true) or a bar (false). @default !process.stderr.isTTY */
  lines?: boolean;
  /** Where lines go. @default process.stderr */
  write?: (line: string) => void;
  /** Lines mode: print only when another this share of the total is done (batches, not units). @default 0 */
  lineEvery?: number;
  /** Clock in ms, for tests. @default performance.now */
  now?: () => number;
}

/** A clock for progress bars and ETAs: h:mm:ss, or m:ss under an hour. Durations in reports read "1h52m" (train/teacher-progress.ts formatDuration). */
export function formatClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Seconds left at the average rate so far (`done` of `total` in `elapsedSeconds`); null before the first unit. */
export function etaSeconds(elapsedSeconds: number, done: number, total: number): number | null {
  if (done <= 0 || total <= done) return done >= total ? 0 : null;
  return (elapsedSeconds / done) * (total - done);
}

export function progressBar(label: string, options: ProgressOptions = {}): ProgressBar {
  const lines = options.lines ?? !process.stderr.isTTY;
  const now = options.now ?? (() => performance.now());
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const started = now();
  if (lines) {
    let printedAt = -Infinity;
    // The rate is this session's, from the first update on: a resumed run's first update is already past earlier sessions' work.
    let first: { done: number; at: number } | null = null;
    return {
      update(done, total, payload = {}, note) {
        first ??= { done, at: now() };
        if (done < total && done - printedAt < (options.lineEvery ?? 0) * total) return;
        printedAt = done;
        const elapsed = (now() - started) / 1000;
        const eta = etaSeconds((now() - first.at) / 1000, done - first.done, total - first.done);
        const extra = Object.entries(payload).map(([k, v]) => `${k} ${v}`).join(', ');
        write(`${label} ${done}/${total}${note ? ` ${note}` : ''}${extra ? ` | ${extra}` : ''} | elapsed ${formatClock(elapsed)} | ETA ${eta === null ? '?' : formatClock(eta)}`);
      },
      log: write,
      stop() {},
    };
  }
  const format = options.format ?? '{bar} {percentage}% | {value}/{total} | ETA {eta_formatted}';
  const bar = new cliProgress.SingleBar({ format: `${label} ${format}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  let running = false;
  return {
    update(done, total, payload = {}) {
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    log(line) {
      process.stderr.write(running ? `\r\x1b[K${line}\n` : `${line}\n`);
      if (running) bar.render();
    },
    stop() {
      // A stopped bar starts again on the next update (e.g. after a log line was printed under it).
      if (running) bar.stop();
      running = false;
    },
  };
}
