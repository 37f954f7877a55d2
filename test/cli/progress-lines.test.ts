import { describe, expect, it } from 'vitest';
import { etaSeconds, formatClock, progressBar } from '../../cli/progress.js';

describe('progress off a terminal: one line per unit of work', () => {
  it('formats durations and estimates the time left at the average rate', () => {
    expect(formatClock(59.4)).toBe('0:59');
    expect(formatClock(3 * 3600 + 5 * 60 + 7)).toBe('3:05:07');
    expect(formatClock(NaN)).toBe('?');
    expect(etaSeconds(60, 0, 10)).toBeNull();
    expect(etaSeconds(60, 3, 12)).toBe(180); // 20 s each, 9 left
    expect(etaSeconds(60, 12, 12)).toBe(0);
  });

  it('prints elapsed time and ETA with each unit, and throttles batches to a share of the total', () => {
    let clock = 0;
    const out: string[] = [];
    const bar = progressBar('teacher', { lines: true, write: (l) => out.push(l), now: () => clock, lineEvery: 0.25 });
    for (let done = 10; done <= 100; done += 10) {
      clock += 2000;
      bar.update(done, 100, { epoch: 1 });
    }
    // 10 is the first line (no rate yet); then each further 25% (40, 70, 100 — the last is always printed).
    expect(out).toEqual([
      'teacher 10/100 | epoch 1 | elapsed 0:02 | ETA ?',
      'teacher 40/100 | epoch 1 | elapsed 0:08 | ETA 0:12',
      'teacher 70/100 | epoch 1 | elapsed 0:14 | ETA 0:06',
      'teacher 100/100 | epoch 1 | elapsed 0:20 | ETA 0:00',
    ]);
  });

  it("a resumed run: the ETA is at this session's rate, not over work an earlier session did", () => {
    let clock = 0;
    const out: string[] = [];
    const bar = progressBar('search', { lines: true, write: (l) => out.push(l), now: () => clock });
    for (const done of [60, 70, 80]) {
      clock += 5000; // 10 units per 5 s in this session
      bar.update(done, 100);
    }
    // At 70: 5 s for the 10 units since 60, 30 left: 15 s (over all 70 units in 10 s it would read 4 s).
    expect(out).toEqual(['search 60/100 | elapsed 0:05 | ETA ?', 'search 70/100 | elapsed 0:10 | ETA 0:15', 'search 80/100 | elapsed 0:15 | ETA 0:10']);
  });
});
