/**
 * Which INT8 variant to keep, from what was measured: the fastest variant
 * within the accuracy budget, and only if it beats fp32 by more than the
 * measurement noise; otherwise fp32 is kept, and the reason says why. Pure:
 * the driver (int8-variants.ts) measures, this decides.
 */

/** Default accuracy budget, in percentage points of top-1. */
export const DEFAULT_MAX_ACCURACY_DROP = 0.5;
/**
 * A variant must take at most this share of fp32's time to count as faster:
 * interleaved p50 ratios on this shared machine move by about 3% run to run.
 */
export const DEFAULT_MAX_LATENCY_RATIO = 0.97;

/** One INT8 variant as measured. */
export interface VariantMeasurement {
  name: string;
  /** p50 over fp32's p50 in one interleaved run; null if it could not be measured. */
  latencyRatio: number | null;
  /** fp32 accuracy minus this variant's, in points; null when accuracy could not be checked. */
  accuracyDrop: number | null;
  bytes: number;
}

export interface ChoiceOptions {
  /** @default DEFAULT_MAX_ACCURACY_DROP */
  maxAccuracyDrop?: number;
  /** @default DEFAULT_MAX_LATENCY_RATIO */
  maxLatencyRatio?: number;
}

export type Int8Choice =
  | { state: 'int8'; variant: string; latencyRatio: number; accuracyDrop: number | null; reason: string }
  | { state: 'fp32'; reason: string };

const times = (r: number) => `${r.toFixed(2)}× fp32's time`;

/** The fastest variant that keeps accuracy and beats fp32, or fp32 with the reason. */
export function chooseVariant(variants: VariantMeasurement[], options: ChoiceOptions = {}): Int8Choice {
  const maxDrop = options.maxAccuracyDrop ?? DEFAULT_MAX_ACCURACY_DROP;
  const maxRatio = options.maxLatencyRatio ?? DEFAULT_MAX_LATENCY_RATIO;
  const measured = variants.filter((v): v is VariantMeasurement & { latencyRatio: number } => v.latencyRatio !== null);
  if (!measured.length) return { state: 'fp32', reason: 'no INT8 variant could be measured: fp32 kept' };
  const bySpeed = [...measured].sort((a, b) => a.latencyRatio - b.latencyRatio || a.bytes - b.bytes);
  const faster = bySpeed.filter((v) => v.latencyRatio <= maxRatio);
  if (!faster.length) {
    return { state: 'fp32', reason: `no INT8 variant beats fp32 on this machine (fastest: ${bySpeed[0].name} at ${times(bySpeed[0].latencyRatio)}): fp32 kept` };
  }
  const kept = faster.find((v) => v.accuracyDrop === null || v.accuracyDrop <= maxDrop);
  if (!kept) {
    return { state: 'fp32', reason: `every INT8 variant faster than fp32 loses more than ${maxDrop} points (${faster.map((v) => `${v.name} ${v.accuracyDrop!.toFixed(2)}`).join(', ')}): fp32 kept` };
  }
  const accuracy = kept.accuracyDrop === null ? 'accuracy not checked' : `${kept.accuracyDrop.toFixed(2)} points lost (budget ${maxDrop})`;
  return { state: 'int8', variant: kept.name, latencyRatio: kept.latencyRatio, accuracyDrop: kept.accuracyDrop, reason: `${kept.name}: fastest INT8 variant at ${times(kept.latencyRatio)}, ${accuracy}` };
}

/**
 * The choice after a second interleaved run of fp32 against the chosen
 * variant alone: the fastest of several noisy ratios is biased low (the
 * winner of seven draws), so an INT8 choice stands only if it is faster
 * again. The confirmed ratio replaces the first.
 */
export function confirmChoice(choice: Int8Choice, confirmedRatio: number | null, options: ChoiceOptions = {}): Int8Choice {
  if (choice.state !== 'int8') return choice;
  const maxRatio = options.maxLatencyRatio ?? DEFAULT_MAX_LATENCY_RATIO;
  if (confirmedRatio === null || confirmedRatio > maxRatio) {
    const second = confirmedRatio === null ? 'could not be measured again' : `measured ${times(confirmedRatio)} when run again against fp32 alone`;
    return { state: 'fp32', reason: `${choice.variant} looked fastest at ${times(choice.latencyRatio)} but ${second}: fp32 kept` };
  }
  return { ...choice, latencyRatio: confirmedRatio, reason: choice.reason.replace(times(choice.latencyRatio), `${times(confirmedRatio)} (confirmed)`) };
}
