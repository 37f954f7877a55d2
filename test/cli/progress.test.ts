import { describe, expect, it } from 'vitest';
import { formatDuration, progressLines } from '../../cli/progress.js';

describe('progress without a terminal', () => {
  it('prints one line per tenth with the count and an ETA from the rate so far', () => {
    const lines: string[] = [];
    let clock = 0;
    const progress = progressLines('teacher', (l) => lines.push(l), () => clock);
    // 2,300 images in batches of 6, one batch every 0.3 s.
    for (let done = 6; done < 2300; done += 6) {
      progress.update(done, 2300);
      clock += 300;
    }
    progress.update(2300, 2300);
    expect(lines.length).toBe(11); // the first batch (0%), then each of the ten tenths
    expect(lines[0]).toBe('teacher 6/2300 (0%) | ETA ?');
    expect(lines[1]).toMatch(/^teacher 234\/2300 \(10%\) \| ETA 1m 43s$/); // 2066 left at 20 images/s
    expect(lines.at(-1)).toBe('teacher 2300/2300 (100%) | ETA done');
  });

  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12s');
    expect(formatDuration(187)).toBe('3m 07s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
