/**
 * How a supernet's training chooses its subnets, as data and pure functions:
 * the sandwich rule (BigNAS) and progressive shrinking (Once-for-All) as
 * phases, which subnets a step trains (a pure function of the seed and the
 * step, so a resumed run and every data-parallel replica draw the same), the
 * recipe and its defaults, and the compute of a step for comparing
 * strategies at equal cost.
 */
import seedrandom from 'seedrandom';
import { planCost, planNetwork } from '../space/plan.js';
import { ALL_ELASTIC, sampleSubnet, stridesOf, type ElasticDimension, type SupernetSpace } from '../space/supernet.js';
import type { Genome } from '../space/types.js';
import type { DistillationOptions } from './types.js';

/** How the subnets of each step are chosen. */
export type SupernetStrategy = 'sandwich' | 'progressive';

/** A stretch of training in which the same dimensions are elastic. */
export interface SupernetPhase {
  name: string;
  /** Dimensions random subnets vary in. */
  elastic: readonly ElasticDimension[];
  /** Share of all steps. */
  share: number;
  /** Peak learning rate as a fraction of the recipe's. */
  learningRateScale: number;
  /** Whether the largest subnet alone trains (no random ones). */
  largestOnly?: boolean;
  /** Sort hidden channels by importance on entering the phase. */
  sortHiddenChannels?: boolean;
  /** Whether the smallest subnet trains every step (the sandwich rule). */
  smallest?: boolean;
}

/** The sandwich rule: one phase, everything elastic from the start. */
export const SANDWICH_PHASES: readonly SupernetPhase[] = [{ name: 'sandwich', elastic: ALL_ELASTIC, share: 1, learningRateScale: 1, smallest: true }];

/**
 * Progressive shrinking, Once-for-All's order. OFA's shares (full network,
 * kernel, depth, expand: 180, 120, 25 + 120, 25 + 120 epochs) and later-phase
 * learning rates (a third to a tenth of the first) are for ImageNet; these
 * keep the order and roughly the proportions.
 */
export const PROGRESSIVE_PHASES: readonly SupernetPhase[] = [
  { name: 'largest', elastic: ['resolution'], share: 0.25, learningRateScale: 1, largestOnly: true },
  { name: 'kernel', elastic: ['resolution', 'kernel'], share: 0.2, learningRateScale: 0.4 },
  { name: 'depth', elastic: ['resolution', 'kernel', 'depth'], share: 0.25, learningRateScale: 0.4 },
  { name: 'expand and width', elastic: ALL_ELASTIC, share: 0.3, learningRateScale: 0.4, sortHiddenChannels: true },
];

/** Everything that decides the trained weights: the cache key hashes it. */
export interface SupernetRecipe {
  strategy: SupernetStrategy;
  epochs: number;
  batchSize: number;
  /** Peak SGD learning rate. */
  learningRate: number;
  weightDecay: number;
  /** Random subnets per step besides the largest (and, for the sandwich rule, the smallest). */
  randomSubnets: number;
  augment: boolean;
  /** The teacher's distillation into the largest subnet (α 0: labels only). */
  distillation: DistillationOptions;
  warmupEpochs: number;
  seed: number;
  /**
   * Once-for-All's kernel transformation matrices for smaller depthwise
   * kernels (space/supernet.ts); absent is off, so recipes without it keep
   * their cache keys.
   */
  kernelTransform?: boolean;
}

/**
 * The default recipe. Sandwich rule until the measured comparison says
 * otherwise (docs/supernet.md); two random subnets per step as BigNAS; the
 * candidates' SGD learning rate and weight decay; 10 epochs: what one night
 * allows on 2 cores for the small space's supernet (see docs/supernet.md).
 */
export const DEFAULT_SUPERNET_RECIPE: SupernetRecipe = {
  strategy: 'sandwich',
  epochs: 10,
  batchSize: 64,
  learningRate: 0.05,
  weightDecay: 4e-5,
  randomSubnets: 2,
  augment: true,
  distillation: { temperature: 4, alpha: 0.9 },
  warmupEpochs: 0.5,
  seed: 0,
};

/** The recipe fields a user sets (`nas supernet train`'s flags, a search's `supernet.train`); `alpha` is the distillation's. */
export type SupernetRecipeOverrides = Partial<Pick<SupernetRecipe, 'strategy' | 'epochs' | 'batchSize' | 'learningRate' | 'randomSubnets' | 'seed' | 'kernelTransform'>> & { alpha?: number };

/**
 * The default recipe with the fields given. Every caller builds its recipe
 * here because the recipe is hashed into the cache key as JSON: the same
 * settings must give the same object, field for field and in the same order,
 * or a supernet trained by `nas supernet train` would not be found by a
 * search that asks for the same one. An undefined field keeps the default;
 * `kernelTransform` appears only when on (recipes from before it keep their
 * keys); without a teacher nothing is distilled (α 0).
 */
export function supernetRecipe(overrides: SupernetRecipeOverrides, hasTeacher: boolean): SupernetRecipe {
  const { alpha, kernelTransform, ...fields } = overrides;
  const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<SupernetRecipe>;
  return {
    ...DEFAULT_SUPERNET_RECIPE,
    ...given,
    distillation: { ...DEFAULT_SUPERNET_RECIPE.distillation, alpha: hasTeacher ? (alpha ?? DEFAULT_SUPERNET_RECIPE.distillation.alpha) : 0 },
    ...(kernelTransform ? { kernelTransform: true } : {}),
  };
}

/** The phases of a strategy. */
export function phasesOf(strategy: SupernetStrategy): readonly SupernetPhase[] {
  return strategy === 'sandwich' ? SANDWICH_PHASES : PROGRESSIVE_PHASES;
}

/** The first step of each phase (and the total at the end), from their shares of `steps`. */
export function phaseStarts(phases: readonly SupernetPhase[], steps: number): number[] {
  let share = 0;
  return [0, ...phases.map((p) => Math.round(((share += p.share) / phases.reduce((a, q) => a + q.share, 0)) * steps))];
}

/** The subnets step `step` trains, largest first: a pure function of (space, phase, seed, step). */
export function stepSubnets(space: SupernetSpace, phase: SupernetPhase, recipe: Pick<SupernetRecipe, 'seed' | 'randomSubnets'>, step: number): Genome[] {
  if (phase.largestOnly) return [space.largest];
  const rng = seedrandom(`supernet:${recipe.seed}:${step}`);
  const random = Array.from({ length: recipe.randomSubnets }, () => sampleSubnet(space, phase.elastic, rng));
  return [space.largest, ...(phase.smallest ? [space.smallest] : []), ...random];
}

/** Expected MACs per image of one step of each phase, weighted by the phases' shares: how strategies compare at equal compute. */
export function expectedStepMacs(space: SupernetSpace, strategy: SupernetStrategy, recipe: Pick<SupernetRecipe, 'seed' | 'randomSubnets'>, data: { numClasses: number; inputChannels: number }, samples = 200): number {
  const phases = phasesOf(strategy);
  const total = phases.reduce((a, p) => a + p.share, 0);
  let macs = 0;
  for (const phase of phases) {
    let sum = 0;
    for (let s = 0; s < samples; s++) sum += stepSubnets(space, phase, recipe, s).reduce((m, g) => m + subnetMacsOf(space, g, data), 0);
    macs += (phase.share / total) * (sum / samples);
  }
  return macs;
}

/** MACs per image of one subnet (plan.ts planCost, the space's own count). */
export function subnetMacsOf(space: SupernetSpace, genome: Genome, data: { numClasses: number; inputChannels: number }): number {
  return planCost(planNetwork(genome, stridesOf(space.config), data)).macs;
}

