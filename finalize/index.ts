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
export { finalRecipe, recipeHash, recipeWithEpochs, DEFAULT_FINAL_EPOCHS, MIN_TIMED_EPOCHS } from './recipe.js';
export { planForTime, listSchedule } from './time-plan.js';
export type { TimePlan, TimePlanInput, TimedModel, TimedModelInput, DroppedModel } from './time-plan.js';
export type { PlanTime } from './time-budget.js';
export type { FinalRecipe } from './recipe.js';
export { FinalizeError } from './types.js';
export type { FinalizeInput, FrontMember, FinalModel, FinalRecord, FinalizeEvent } from './types.js';
