/**
 * The run's journal: one JSON line per finished candidate (and one per new
 * budget a `--resume` gave), written and fsync'ed before it counts, so a
 * run killed at any moment loses at most the
 * candidates in flight. On reopening, a torn last line (the kill came mid-
 * write) is detected, dropped and truncated away; damage anywhere else is an
 * error naming the file and line, and nothing is rewritten.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { genomeSchema } from '../space/schema.js';
import { budgetSchema, type SearchBudget } from './config.js';
import type { CandidateRecord } from './types.js';
import { CodedError } from '../errors.js';

export const JOURNAL_FILE = 'journal.jsonl';

/** A journal that cannot be read or continued; exits with code 8 in the CLI. */
export class JournalError extends CodedError {
  readonly code = 'E_JOURNAL';
}

const latency = z.object({
  p50: z.number(),
  p90: z.number(),
  source: z.enum(['measured', 'predicted', 'formula']),
  precision: z.enum(['fp32', 'int8']).optional(),
  int8Variant: z.string().optional(),
  fp32P50: z.number().optional(),
});
const rung = z.number().int().min(0);
const base = { id: z.string(), generation: z.number().int(), genome: genomeSchema, params: z.number(), macs: z.number(), at: z.string() };
const recordSchema = z.discriminatedUnion('state', [
  z.object({ ...base, state: z.literal('rejected'), constraint: z.enum(['maxLatencyMs', 'maxParams', 'maxMacs']), value: z.number(), limit: z.number(), latency: latency.optional() }),
  z.object({ ...base, state: z.literal('evaluated'), latency, accuracy: z.number(), logLikelihood: z.number().max(0).optional(), trainSeconds: z.number(), imagesPerSecond: z.number(), lossCurve: z.array(z.number()), rung: rung.optional(), imagesTrained: z.number().int().positive().optional() }),
  z.object({ ...base, state: z.literal('failed'), stage: z.enum(['latency', 'training']), error: z.string(), latency: latency.optional(), rung: rung.optional() }),
]);

/** A journal line: the record plus when it was written. */
export type JournalEntry = CandidateRecord & { at: string };

/**
 * A journal line that is not a candidate: the budget a `--resume` gave the
 * run, replacing config.json's (whose hash must not change) from then on.
 */
export interface BudgetEntry {
  state: 'budget';
  budget: SearchBudget;
  at: string;
}
const budgetEntrySchema = z.strictObject({ state: z.literal('budget'), budget: budgetSchema, at: z.string() });

/**
 * The schema reads back exactly the records types.ts declares: a field added
 * to one and not the other fails to compile here rather than being silently
 * dropped (or refused) when a run is resumed.
 */
type Keys<T> = T extends unknown ? `${T extends { state: infer S extends string } ? S : ''}.${Exclude<keyof T, symbol>}` : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([Keys<A>] extends [Keys<B>] ? ([Keys<B>] extends [Keys<A>] ? true : false) : false) : false) : false;
const schemaMatchesTypes: Same<z.infer<typeof recordSchema>, JournalEntry> = true;
void schemaMatchesTypes;

/** A journal read without changing it. */
export interface JournalContents {
  /** The candidate lines, in order. */
  entries: JournalEntry[];
  /** The budget lines, in order: the last one is the run's budget. */
  budgets: BudgetEntry[];
  /** True when a torn last line was found (Journal.open removes it). */
  repairedTornLine: boolean;
  /** Bytes up to the end of the last whole line. */
  validBytes: number;
}

/** Reads and validates a journal; a missing file reads as empty. Writes nothing. */
export function readJournal(path: string): JournalContents {
  const entries: JournalEntry[] = [];
  const budgets: BudgetEntry[] = [];
  let repairedTornLine = false;
  let validBytes = 0;
  if (!existsSync(path)) return { entries, budgets, repairedTornLine, validBytes };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // The text after the last newline is a torn write if non-empty.
  const complete = lines.slice(0, -1);
  const tail = lines[lines.length - 1];
  let offset = 0;
  complete.forEach((line, i) => {
    offset += Buffer.byteLength(line) + 1;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === complete.length - 1 && tail === '') {
        // A last line cut inside its JSON, newline included: also torn.
        repairedTornLine = true;
        return;
      }
      throw new JournalError(`${path}:${i + 1}: not valid JSON; the journal is damaged before its last line`);
    }
    const isBudget = (value as { state?: unknown } | null)?.state === 'budget';
    const parsed = isBudget ? budgetEntrySchema.safeParse(value) : recordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new JournalError(`${path}:${i + 1}: ${issue.path.join('.') || 'record'}: ${issue.message}`);
    }
    if (isBudget) budgets.push(parsed.data as BudgetEntry);
    else entries.push(parsed.data as JournalEntry);
    validBytes = offset;
  });
  if (tail !== '') repairedTornLine = true;
  return { entries, budgets, repairedTornLine, validBytes };
}

export interface OpenedJournal {
  journal: Journal;
  entries: JournalEntry[];
  /** The budget lines, in order: the last one is the run's budget. */
  budgets: BudgetEntry[];
  /** True when a torn last line was found and removed. */
  repairedTornLine: boolean;
}

export class Journal {
  readonly #fd: number;

  private constructor(readonly path: string, fd: number) {
    this.#fd = fd;
  }

  /** Reads what is there (if anything) and opens for appending. */
  static open(path: string): OpenedJournal {
    const { entries, budgets, repairedTornLine, validBytes } = readJournal(path);
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    if (repairedTornLine) {
      ftruncateSync(fd, validBytes);
      fsyncSync(fd);
    }
    const journal = new Journal(path, fd);
    journal.#position = validBytes;
    return { journal, entries, budgets, repairedTornLine };
  }

  #position = 0;

  /** Appends one record and forces it to disk before returning. */
  append(record: CandidateRecord): JournalEntry {
    const entry: JournalEntry = { ...record, at: new Date().toISOString() };
    this.#write(entry);
    return entry;
  }

  #write(entry: JournalEntry | BudgetEntry): void {
    const line = Buffer.from(JSON.stringify(entry) + '\n');
    this.#position += writeSync(this.#fd, line, 0, line.length, this.#position);
    fsyncSync(this.#fd);
  }

  /** Appends a budget line (a resume's new budget) and forces it to disk. */
  appendBudget(budget: SearchBudget): BudgetEntry {
    const entry: BudgetEntry = { state: 'budget', budget, at: new Date().toISOString() };
    this.#write(entry);
    return entry;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
