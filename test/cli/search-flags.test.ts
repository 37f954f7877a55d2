import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../cli/search.js';
import { buildProgram } from '../../cli/index.js';
import { teacherSpecOf } from '../../search/config-helpers.js';
import { NAMED_SPACES } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { DEFAULT_TEACHER_EPOCHS, DEFAULT_TEACHER_THREADS } from '../../train/teacher-types.js';
import { trainedTeacherSpec } from '../../train/trained-teacher.js';

describe('nas search flags', () => {
  it('with no flags: the quickstart preset', () => {
    const c = configFromFlags({});
    expect(c.name).toBe('quickstart');
    expect(c.budget).toEqual({ generations: 3 });
    expect(c.training.subset).toBe(2000);
    expect(c.teacher).toEqual({ train: { epochs: 2 } });
  });

  it('flags go on top of a config file, which keeps everything they do not name', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'flags-')), 'search.json');
    writeFileSync(file, JSON.stringify({ seed: 4, searcher: { algorithm: 'aging', population: 10 }, budget: { evaluations: 50 }, constraints: { maxParams: 1000 } }));
    const kept = configFromFlags({ config: file });
    expect([kept.seed, kept.searcher.algorithm, kept.searcher.population, kept.budget.evaluations, kept.constraints.maxParams]).toEqual([4, 'aging', 10, 50, 1000]);
    const over = configFromFlags({ config: file, population: 6, maxLatency: 0.5, generations: 2 });
    expect(over.searcher).toMatchObject({ algorithm: 'aging', population: 6 });
    expect(over.constraints).toEqual({ maxParams: 1000, maxLatencyMs: 0.5 });
    expect(over.budget).toEqual({ generations: 2 }); // a budget flag replaces the file's budget
  });

  it('the overnight preset promotes through 3 rungs; --rungs sets how many, 1 turns promotion off', () => {
    expect(configFromFlags({ preset: 'overnight' }).fidelity).toEqual({ rungs: 3, eta: 3 });
    expect(configFromFlags({ preset: 'overnight', rungs: 1 }).fidelity).toEqual({ rungs: 1, eta: 3 });
    expect(configFromFlags({ rungs: 2 }).fidelity).toEqual({ rungs: 2, eta: 3 });
    expect(configFromFlags({}).fidelity).toBeUndefined();
    expect(() => buildProgram().configureOutput({ writeErr: () => {} }).parse(['node', 'nas', 'search', '--rungs', '0'])).toThrow('--rungs must be a positive integer.');
  });

  it("the overnight preset's teacher is the one measured at 93.5% and the one `nas teacher --train` trains by default: one cache entry for both", () => {
    const space = new MobileNetSpace(NAMED_SPACES.small, { numClasses: 10, inputChannels: 1 });
    const spec = teacherSpecOf(configFromFlags({ preset: 'overnight' }), space, 28);
    expect(spec).toMatchObject({ kind: 'trained', architecture: 'mobilenetv3-small', epochs: 20, threads: 2, seed: 0 });
    // `nas teacher --train` with no flags: seed 0, the default epochs and threads.
    expect(spec).toEqual(trainedTeacherSpec(space, DEFAULT_TEACHER_EPOCHS, 28, 0, DEFAULT_TEACHER_THREADS));
  });

  it('--seed 0, the default seed, is accepted; a negative seed is not', () => {
    const program = buildProgram();
    const search = program.commands.find((c) => c.name() === 'search')!;
    search.action(() => {});
    program.parse(['node', 'nas', 'search', '--seed', '0']);
    expect(search.opts().seed).toBe(0);
    expect(configFromFlags({ seed: 0, evaluator: 'proxy' }).seed).toBe(0);
    expect(() => buildProgram().configureOutput({ writeErr: () => {} }).parse(['node', 'nas', 'search', '--seed', '1.5'])).toThrow('--seed must be an integer ≥ 0.');
  });

  it('an unknown preset and a bad number are named', () => {
    expect(() => configFromFlags({ preset: 'weekend' })).toThrow("--preset: 'weekend' is not one of quickstart, overnight");
    const program = buildProgram();
    program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    expect(() => program.parse(['node', 'nas', 'search', '--population', 'many'])).toThrow("--population must be a positive integer.");
    // A usage error (exit 2) naming the flag, not a preset or config error (exit 7).
    expect(() => buildProgram().configureOutput({ writeErr: () => {} }).parse(['node', 'nas', 'search', '--max-latency', 'abc'])).toThrow(
      expect.objectContaining({ code: 'commander.invalidArgument', message: expect.stringContaining('--max-latency must be a positive number of milliseconds.') }),
    );
  });
});
