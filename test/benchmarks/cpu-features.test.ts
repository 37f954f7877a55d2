import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instructionSetsOf } from '../../benchmarks/cpu-features.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';

// Abridged /proc/cpuinfo of an AMD EPYC (Zen 5) and of an Arm Neoverse-N1.
const EPYC = `processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R45 96-Core Processor
flags\t\t: fpu vme de pse tsc msr sse sse2 ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni avx512_bitalg
bugs\t\t: sysret_ss_attrs

processor\t: 1
flags\t\t: fpu sse2
`;
const NEOVERSE = `processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
`;

describe('CPU instruction sets', () => {
  it('reads the x86 flags (first processor) and Arm features that change timings, in a fixed order', () => {
    expect(instructionSetsOf(EPYC)).toEqual(['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx_vnni', 'avx512_bf16']);
    expect(instructionSetsOf(NEOVERSE)).toEqual(['asimd', 'asimddp']);
    expect(instructionSetsOf('')).toEqual([]);
  });

  it("environment.json records this machine's CPU model and instruction sets", async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'cpu-flags-')), 'run');
    await runSearch(resolveSearchConfig({ evaluator: 'proxy', searcher: { population: 2 }, budget: { generations: 1 } }), { runDir: run });
    const session = JSON.parse(readFileSync(join(run, 'environment.json'), 'utf8')).sessions[0];
    expect(session.cpuModel).toEqual(expect.any(String));
    const expected = existsSync('/proc/cpuinfo') ? instructionSetsOf(readFileSync('/proc/cpuinfo', 'utf8')) : [];
    expect(session.cpuInstructionSets).toEqual(expected);
    if (/\bavx2\b/.test(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')) expect(session.cpuInstructionSets).toContain('avx2');
  });
});
