/**
 * zod schemas for what crosses the edge into space/: a search-space file and
 * a genome.json. Tied to the interfaces in types.ts so they cannot drift, and
 * followed by the checks zod cannot express (feature maps that vanish).
 */
import { z } from 'zod';
import { sameOutputSize } from './plan.js';
import type { Genome, SearchSpaceConfig } from './types.js';
import { CodedError } from '../errors.js';

const positiveInt = z.number().int().positive();
const choices = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1, 'must list at least one choice');
const activation = z.enum(['relu6', 'hswish']);
const kernel = z.union([z.literal(3), z.literal(5), z.literal(7)]);
const stride = z.union([z.literal(1), z.literal(2)]);

export const stageSpaceSchema = z.strictObject({
  depths: choices(positiveInt),
  widths: choices(positiveInt),
  expandRatios: choices(positiveInt),
  kernelSizes: choices(kernel),
  squeezeExcite: choices(z.boolean()),
  activations: choices(activation),
  stride,
});

export const searchSpaceSchema = z.strictObject({
  resolutions: choices(z.number().int().min(8).max(1024)),
  stemWidths: choices(positiveInt),
  stemStride: stride,
  stages: z.array(stageSpaceSchema).min(1, 'must list at least one stage'),
  headWidths: choices(positiveInt),
});

export const genomeSchema = z.strictObject({
  resolution: positiveInt,
  stemWidth: positiveInt,
  stages: z
    .array(
      z.strictObject({
        width: positiveInt,
        activation,
        squeezeExcite: z.boolean(),
        blocks: z.array(z.strictObject({ kernel, expand: positiveInt, hidden: positiveInt.optional(), squeezed: positiveInt.optional() })).min(1),
      }),
    )
    .min(1),
  headWidth: positiveInt,
});

// Compile-time ties: a schema that parses to something other than the
// interface fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const spaceMatches: Same<z.infer<typeof searchSpaceSchema>, SearchSpaceConfig> = true;
const genomeMatches: Same<z.infer<typeof genomeSchema>, Genome> = true;
void spaceMatches;
void genomeMatches;

/** A bad space or genome: `field` is the dotted path, `source` the file if any. */
export class SpaceConfigError extends CodedError {
  readonly code = 'E_SPACE_CONFIG';
  constructor(
    readonly field: string,
    readonly problem: string,
    readonly source?: string,
  ) {
    super(`${source ? `${source}: ` : ''}${field}: ${problem}`);
  }
}

function firstIssue(error: z.ZodError, source?: string): SpaceConfigError {
  const issue = error.issues[0];
  let field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    field = [field, keys[0]].filter(Boolean).join('.');
    message = 'unknown field';
  }
  return new SpaceConfigError(field || '(root)', message, source);
}

/**
 * Parses and checks a space. Beyond the schema: every stride-2 layer must
 * get at least a 2×2 map at the smallest resolution, or the map vanishes.
 */
export function parseSearchSpace(value: unknown, source?: string): SearchSpaceConfig {
  const parsed = searchSpaceSchema.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, source);
  const space = parsed.data;
  const smallest = Math.min(...space.resolutions);
  let size = smallest;
  const check = (stride: number, field: string) => {
    if (stride === 2 && size < 2) {
      throw new SpaceConfigError(field, `stride 2 meets a ${size}×${size} feature map at resolution ${smallest}: the map vanishes`, source);
    }
    size = sameOutputSize(size, stride);
  };
  check(space.stemStride, 'stemStride');
  space.stages.forEach((stage, i) => check(stage.stride, `stages[${i}].stride`));
  return space;
}

/** Parses a genome and checks that every choice is one the space allows. */
export function parseGenome(value: unknown, space: SearchSpaceConfig, source?: string): Genome {
  const parsed = genomeSchema.safeParse(value);
  if (!parsed.success) throw firstIssue(parsed.error, source);
  const genome = parsed.data;
  const allow = <T>(field: string, v: T, allowed: readonly T[]) => {
    if (!allowed.includes(v)) throw new SpaceConfigError(field, `${JSON.stringify(v)} is not one of ${JSON.stringify(allowed)}`, source);
  };
  allow('resolution', genome.resolution, space.resolutions);
  allow('stemWidth', genome.stemWidth, space.stemWidths);
  allow('headWidth', genome.headWidth, space.headWidths);
  if (genome.stages.length !== space.stages.length) {
    throw new SpaceConfigError('stages', `has ${genome.stages.length} stages, the space ${space.stages.length}`, source);
  }
  genome.stages.forEach((stage, i) => {
    const s = space.stages[i];
    allow(`stages[${i}].width`, stage.width, s.widths);
    allow(`stages[${i}].activation`, stage.activation, s.activations);
    allow(`stages[${i}].squeezeExcite`, stage.squeezeExcite, s.squeezeExcite);
    allow(`stages[${i}].blocks.length`, stage.blocks.length, s.depths);
    stage.blocks.forEach((b, j) => {
      allow(`stages[${i}].blocks[${j}].kernel`, b.kernel, s.kernelSizes);
      allow(`stages[${i}].blocks[${j}].expand`, b.expand, s.expandRatios);
    });
  });
  return genome;
}
