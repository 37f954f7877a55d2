/**
 * The sums of `npm run bench:kd`, apart from any training: per student, test
 * accuracy with and without distillation as mean ± sample sd over seeds, and
 * the gain paired by seed (both arms of a seed share the initialisation,
 * data order and augmentation, so the pair's difference is distillation's
 * alone). Pure functions.
 */

/** One trained student: which, with what α and seed, and how it scored. */
export interface KdRow {
  student: string;
  params: number;
  /** KD weight: 0 is plain cross-entropy training. */
  alpha: number;
  seed: number;
  testAccuracy: number;
}

export interface KdStudentSummary {
  student: string;
  params: number;
  /** Seeds with both arms measured; only those enter the sums. */
  seeds: number[];
  kdMean: number;
  kdSd: number;
  plainMean: number;
  plainSd: number;
  /** Mean over seeds of (KD − plain), and its sample sd. */
  gainMean: number;
  gainSd: number;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Sample standard deviation (n − 1); 0 for a single value. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * Per student (in first-seen order), the arms paired by seed. A seed missing
 * one arm (a run stopped half-way) is left out of both, so the two means
 * always cover the same seeds.
 */
export function summariseKd(rows: readonly KdRow[]): KdStudentSummary[] {
  const students = [...new Set(rows.map((r) => r.student))];
  return students.map((student) => {
    const mine = rows.filter((r) => r.student === student);
    const arm = (distilled: boolean) => new Map(mine.filter((r) => (r.alpha > 0) === distilled).map((r) => [r.seed, r.testAccuracy]));
    const kd = arm(true);
    const plain = arm(false);
    const seeds = [...kd.keys()].filter((s) => plain.has(s)).sort((a, b) => a - b);
    const kdAcc = seeds.map((s) => kd.get(s)!);
    const plainAcc = seeds.map((s) => plain.get(s)!);
    const gains = seeds.map((_, i) => kdAcc[i] - plainAcc[i]);
    return {
      student,
      params: mine[0].params,
      seeds,
      kdMean: mean(kdAcc),
      kdSd: sampleSd(kdAcc),
      plainMean: mean(plainAcc),
      plainSd: sampleSd(plainAcc),
      gainMean: mean(gains),
      gainSd: sampleSd(gains),
    };
  });
}

/** "72.13 ± 0.59" from fractions; a gain gets its sign. */
export function percentWithSd(m: number, sd: number, signed = false): string {
  const text = `${(m * 100).toFixed(2)} ± ${(sd * 100).toFixed(2)}`;
  return signed && m >= 0 ? `+${text}` : text;
}
