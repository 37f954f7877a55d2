/**
 * The CPU's instruction-set extensions that change inference and training
 * speed (AVX2, AVX-512, VNNI on x86; NEON dot product and i8mm on Arm): two
 * runs on machines that differ here can differ about 2× in latency, so run
 * records carry them. Linux reads /proc/cpuinfo; elsewhere the list is empty.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The flags worth recording, in this order: SIMD widths, then the int8 dot-product and bf16 extensions. */
export const RECORDED_CPU_FLAGS = [
  'sse4_2', 'avx', 'avx2', 'fma', 'f16c',
  'avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_int8', 'amx_bf16',
  'neon', 'asimd', 'asimddp', 'i8mm', 'bf16', 'sve', 'sve2',
] as const;

/** The recorded flags present in /proc/cpuinfo text (its first `flags` or Arm `Features` line). Pure. */
export function instructionSetsOf(cpuinfo: string): string[] {
  const line = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo);
  if (!line) return [];
  const present = new Set(line[1].trim().split(/\s+/));
  return RECORDED_CPU_FLAGS.filter((f) => present.has(f));
}

/** This machine's CPU model and recorded instruction-set flags. */
export function cpuFeatures(): { model: string; instructionSets: string[] } {
  let cpuinfo = '';
  if (os.platform() === 'linux') {
    try {
      cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // A container without /proc: no flags recorded rather than no run.
    }
  }
  return { model: os.cpus()[0]?.model ?? 'unknown', instructionSets: instructionSetsOf(cpuinfo) };
}
