/**
 * `nas-edge/finalize`: the front's best members and the hand-designed
 * baselines trained with one recipe, measured in one interleaved latency run,
 * and compared (which front member dominates each baseline). It takes the run
 * from its caller: `const run = readRun(dir)` (nas-edge/search), then
 * `finalizeRun({ ...run, ...runSetting(run.config) })`.
 */
export { finalizeRun, planFinalization } from './finalize-run.js';
export type { FinalizeOptions, FinalizeResult, FinalizedModel, FinalizationPlan } from './finalize-run.js';
export { writeFinalizeReport, dominanceLines } from './report.js';
export { compareWithBaselines } from './dominance.js';
export type { DominanceResult } from './dominance.js';
export { finalRecipe, recipeHash, DEFAULT_FINAL_EPOCHS } from './recipe.js';
export type { FinalRecipe } from './recipe.js';
export { FinalizeError } from './types.js';
export type { FinalizeInput, FrontMember, FinalModel, FinalRecord, FinalizeEvent } from './types.js';
