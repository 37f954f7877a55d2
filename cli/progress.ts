/** A progress bar on stderr (silent when stderr is not a terminal). */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/** `format` may use {bar} {percentage} {value} {total} {eta_formatted} and payload keys. */
export function progressBar(label: string, format = '{bar} {percentage}% | {value}/{total} | ETA {eta_formatted}'): ProgressBar {
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
      // A stopped bar starts again on the next update (e.g. after a log line was printed under it).
      if (started) bar.stop();
      started = false;
    },
  };
}
