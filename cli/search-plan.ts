/**
 * What `nas search` is about to do, printed before anything slow (loading
 * the data, training a teacher for an hour or two): the data, the teacher,
 * how candidates train, the budget and where results go. Without it an
 * overnight run says nothing for its first minutes, in a terminal or a log.
 */
import type { SearchBudget, SearchConfig } from '../search/config.js';
import { SUBNET_BN_IMAGES } from '../train/constants.js';
import { DEFAULT_SUPERNET_RECIPE } from '../train/supernet-train.js';
import { DEFAULT_TEACHER_ARCHITECTURE } from '../train/teacher-types.js';
import { formatDuration } from '../train/teacher-progress.js';

/** The budget in words: "1000 evaluations or 8h00m, whichever comes first". */
export function budgetText(budget: SearchBudget): string {
  const parts = [
    budget.evaluations !== undefined ? `${budget.evaluations} trained candidates` : null,
    budget.generations !== undefined ? `${budget.generations} generations` : null,
    budget.images !== undefined ? `${budget.images} images trained` : null,
    budget.time !== undefined ? `${formatDuration(budget.time)} (no new training after it)` : null,
  ].filter((p): p is string => p !== null);
  if (!parts.length) return 'none (runs until stopped)';
  return parts.length === 1 ? parts[0] : `${parts.join(' or ')}, whichever comes first`;
}

function teacherText(config: SearchConfig): string {
  const t = config.teacher;
  if (config.evaluator === 'proxy') return 'none (proxy evaluator: nothing trains)';
  if (config.evaluator === 'supernet') return 'none (supernet evaluator: subnets are scored, not trained)';
  if (t === null) return 'none (candidates train on labels alone)';
  if ('onnx' in t) return `${t.onnx} (its logits are computed first, then cached)`;
  const threads = t.train.threads ?? 1;
  return `trains ${t.train.architecture ?? DEFAULT_TEACHER_ARCHITECTURE} for ${t.train.epochs} epochs on ${threads} thread${threads === 1 ? '' : 's'} before the first candidate (once; cached after)`;
}

function candidatesText(config: SearchConfig): string {
  const limit = config.constraints.maxLatencyMs !== undefined ? `; slower than ${config.constraints.maxLatencyMs} ms p50 rejected` : '';
  if (config.evaluator === 'proxy') return `${config.searcher.algorithm}, ${config.searcher.population} per generation; accuracy and latency from formulas (nothing trains)${limit}`;
  if (config.evaluator === 'supernet') {
    const s = config.supernet;
    const which = typeof s === 'object' ? `the space's supernet (${s.train.epochs ?? DEFAULT_SUPERNET_RECIPE.epochs} epochs, ${s.train.strategy ?? DEFAULT_SUPERNET_RECIPE.strategy}; trained first unless cached)` : `supernet ${s}`;
    const scoring = config.supernetScoring ?? {};
    const bn = `batch-norm statistics recomputed from ${scoring.bnImages ?? SUBNET_BN_IMAGES} training images`;
    const on = scoring.validationImages !== undefined ? `on the validation split's first ${scoring.validationImages} images` : 'on the validation split';
    return `${config.searcher.algorithm}, ${config.searcher.population} per generation; each scored with weights from ${which}, ${bn} (no training), ${on}, ranked by ${config.rankBy === 'log-likelihood' ? 'log-likelihood' : 'top-1 accuracy'}${limit}`;
  }
  const tr = config.training;
  const length = tr.epochs !== undefined ? `${tr.epochs} epoch${tr.epochs === 1 ? '' : 's'}` : `${tr.images} images`;
  const on = tr.subset !== undefined ? ` of a ${tr.subset}-image subset` : '';
  const fidelity = config.fidelity && config.fidelity.rungs > 1 ? `; the best 1/${config.fidelity.eta} of each rung train on, up to ${config.fidelity.rungs} rungs` : '';
  return `${config.searcher.algorithm}, ${config.searcher.population} per generation; each trains ${length}${on}, ${config.workers} at a time${fidelity}${limit}`;
}

function latencyText(config: SearchConfig): string {
  if (config.evaluator === 'proxy') return 'a formula of MACs and depth (nothing is measured)';
  const l = config.latency;
  const where = l.agent ? `on the bench agent at ${l.agent}` : 'on this machine';
  const threads = `${l.threads} thread${l.threads === 1 ? '' : 's'}`;
  const precision = {
    fp32: 'the fp32 model',
    int8: 'the INT8 model compress would ship (its fastest variant, measured against fp32)',
    best: 'fp32 or INT8, whichever compress would ship (both measured, interleaved)',
  }[l.precision];
  if (l.source === 'predicted') return `p50 of ${l.precision === 'int8' ? 'the INT8 model' : 'the fp32 model'} predicted by ${l.predictor} (nothing measured), ${l.threads} thread${l.threads === 1 ? '' : 's'}, for the target it was built on`;
  const table = l.predictorSlack !== undefined && l.precision !== 'fp32' ? ' (the fp32 lookup table rejects nothing in this run)' : '';
  return `p50 of ${precision}, ${threads}, ${where}${table}`;
}

/** The plan, one line per fact; `budget` is the run's (a resume's may replace config.json's). */
export function searchPlanLines(config: SearchConfig, runDir: string, budget: SearchBudget, resumed: boolean): string[] {
  return [
    `${resumed ? 'resuming' : 'search'}: seed ${config.seed}, evaluator ${config.evaluator}`,
    `  data: ${config.data} (${Math.round(config.validationFraction * 100)}% held out for validation)`,
    `  teacher: ${teacherText(config)}`,
    `  candidates: ${candidatesText(config)}`,
    `  latency: ${latencyText(config)}`,
    `  budget: ${budgetText(budget)}`,
    `  results: ${runDir} (report.html after each generation; --resume ${runDir} continues it)`,
  ];
}
