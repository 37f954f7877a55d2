/**
 * zod schemas for what crosses the HTTP edge to and from a bench agent:
 * measurement options in, measurements out. Tied to types.ts.
 */
import { z } from 'zod';
import type { Measurement, MeasureOptions } from './types.js';

const sessionSchema = z.strictObject({
  intraOpThreads: z.number().int().min(1).max(256),
  interOpThreads: z.number().int().min(1).max(256),
  executionMode: z.enum(['sequential', 'parallel']),
  graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']),
  executionProvider: z.string().min(1).max(64),
});

/** Options a client may send; bounded so one request cannot occupy the device for hours. */
export const measureOptionsSchema = z.strictObject({
  session: sessionSchema.partial().optional(),
  shapes: z.record(z.string().max(256), z.array(z.number().int().min(1).max(1 << 16)).max(8)).optional(),
  seed: z.number().int().optional(),
  warmupIterations: z.number().int().min(0).max(100_000).optional(),
  warmupTime: z.number().min(0).max(60_000).optional(),
  iterations: z.number().int().min(1).max(1_000_000).optional(),
  time: z.number().min(1).max(300_000).optional(),
  noiseThreshold: z.number().positive().max(10).optional(),
  maxRepeats: z.number().int().min(0).max(10).optional(),
});

const statsSchema = z.object({
  samples: z.number(), mean: z.number(), min: z.number(), max: z.number(),
  p50: z.number(), p90: z.number(), p99: z.number(), mad: z.number(), cv: z.number(), robustCv: z.number(), rme: z.number(),
});
export const environmentSchema = z.object({
  onnxruntime: z.string(), node: z.string(), tinybench: z.string(), cpuModel: z.string(), cpuCount: z.number(),
  platform: z.string(), loadAverage: z.number(), host: z.string(),
});
const measuredBase = {
  model: z.string(),
  inputs: z.array(z.object({ name: z.string(), shape: z.array(z.number()), type: z.string() })),
  session: sessionSchema,
  environment: environmentSchema,
  startup: z.object({ sessionCreate: z.number(), firstInference: z.number(), warmup: z.number() }),
  stats: statsSchema,
  attempts: z.number(),
};

/** A measurement as an agent returns it. */
export const measurementSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('measured'), ...measuredBase }),
  z.object({ state: z.literal('noisy'), ...measuredBase }),
  z.object({ state: z.literal('errored'), model: z.string(), error: z.object({ code: z.string(), message: z.string() }) }),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const measurementMatches: Same<z.infer<typeof measurementSchema>, Measurement> = true;
const optionsFit: z.infer<typeof measureOptionsSchema> extends MeasureOptions ? true : false = true;
void measurementMatches;
void optionsFit;
