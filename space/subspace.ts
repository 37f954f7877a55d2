/**
 * Whether one space lies inside another: every network the first allows is
 * one the second allows. A supernet scores only its subspaces, and a latency
 * predictor fitted on a space predicts any of its subspaces (its features are
 * the plan's units, which a subspace only draws fewer of). A pure function
 * that names the first field where the inner space steps outside.
 */
import type { SearchSpaceConfig } from './types.js';

/** The first field at which `inner` allows something `outer` does not, or null when `inner` lies within `outer`; `outerName` words the message ("the supernet"). */
export function subspaceProblem(inner: SearchSpaceConfig, outer: SearchSpaceConfig, outerName: string): { field: string; problem: string } | null {
  const within = <T>(field: string, values: readonly T[], allowed: readonly T[]) => {
    const outside = values.filter((v) => !allowed.includes(v));
    return outside.length ? { field, problem: `${JSON.stringify(outside)} ${outside.length > 1 ? 'are' : 'is'} not held by ${outerName}, whose choices are ${JSON.stringify(allowed)}` } : null;
  };
  if (inner.stemStride !== outer.stemStride) return { field: 'stemStride', problem: `is ${inner.stemStride}, ${outerName}'s ${outer.stemStride}` };
  if (inner.stages.length !== outer.stages.length) return { field: 'stages', problem: `has ${inner.stages.length} stages, ${outerName} ${outer.stages.length}` };
  const top = within('resolutions', inner.resolutions, outer.resolutions) ?? within('stemWidths', inner.stemWidths, outer.stemWidths) ?? within('headWidths', inner.headWidths, outer.headWidths);
  if (top) return top;
  for (const [i, stage] of inner.stages.entries()) {
    const o = outer.stages[i];
    if (stage.stride !== o.stride) return { field: `stages[${i}].stride`, problem: `is ${stage.stride}, ${outerName}'s ${o.stride}` };
    const problem =
      within(`stages[${i}].depths`, stage.depths, o.depths) ??
      within(`stages[${i}].widths`, stage.widths, o.widths) ??
      within(`stages[${i}].expandRatios`, stage.expandRatios, o.expandRatios) ??
      within(`stages[${i}].kernelSizes`, stage.kernelSizes, o.kernelSizes) ??
      within(`stages[${i}].activations`, stage.activations, o.activations) ??
      within(`stages[${i}].squeezeExcite`, stage.squeezeExcite, o.squeezeExcite);
    if (problem) return problem;
  }
  return null;
}
