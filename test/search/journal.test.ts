import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../../search/journal.js';
import type { CandidateRecord } from '../../search/types.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const rng = seedrandom('journal');
const record = (generation: number): CandidateRecord => {
  const genome = space.sample(rng);
  return { state: 'evaluated', id: space.id(genome), generation, genome, ...space.cost(genome), latency: { p50: 0.1, p90: 0.12, source: 'measured' }, accuracy: 0.8, trainSeconds: 1, imagesPerSecond: 100, lossCurve: [1, 0.5] };
};

describe('journal', () => {
  it('appends, and reads back what was appended', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    const { journal } = Journal.open(file);
    const written = [record(0), record(0), record(1)];
    written.forEach((r) => journal.append(r));
    journal.close();
    const { entries, repairedTornLine, journal: again } = Journal.open(file);
    again.close();
    expect(repairedTornLine).toBe(false);
    expect(entries.map(({ at: _at, ...r }) => r)).toEqual(written);
  });

  it('a torn last line is dropped, truncated away, and appending continues cleanly', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    const { journal } = Journal.open(file);
    const a = record(0);
    journal.append(a);
    journal.close();
    const intact = readFileSync(file, 'utf8');
    appendFileSync(file, JSON.stringify(record(0)).slice(0, 57)); // killed mid-write
    const reopened = Journal.open(file);
    expect(reopened.repairedTornLine).toBe(true);
    expect(reopened.entries.map((e) => e.id)).toEqual([a.id]);
    expect(readFileSync(file, 'utf8')).toBe(intact);
    const b = record(1);
    reopened.journal.append(b);
    reopened.journal.close();
    const final = Journal.open(file);
    final.journal.close();
    expect(final.entries.map((e) => e.id)).toEqual([a.id, b.id]);
  });

  it('damage before the last line is an error naming the file and line, and nothing is rewritten', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    const { journal } = Journal.open(file);
    journal.append(record(0));
    journal.close();
    appendFileSync(file, '{"broken\n' + JSON.stringify({ ...record(1), at: 'x' }) + '\n');
    const before = readFileSync(file, 'utf8');
    expect(() => Journal.open(file)).toThrow(JournalError);
    expect(() => Journal.open(file)).toThrow(`${file}:2: not valid JSON`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a record with a bad field names it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'journal-')), 'journal.jsonl');
    writeFileSync(file, JSON.stringify({ ...record(0), accuracy: 'high', at: 'now' }) + '\n');
    expect(() => Journal.open(file)).toThrow(`${file}:1: accuracy:`);
  });
});
