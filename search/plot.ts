/**
 * pareto.svg: validation accuracy against latency p50, every trained
 * candidate in grey and the front in colour, joined as a staircase. A
 * vega-lite spec compiled and rendered by vega headlessly (no browser).
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteSvg } from '../charts.js';
import type { CandidateRecord } from './types.js';

export async function renderParetoSvg(records: readonly CandidateRecord[], frontIds: ReadonlySet<string>, title: string): Promise<string> {
  const points = records
    .filter((r) => r.state === 'evaluated')
    .map((r) => ({
      id: r.id,
      latency: r.state === 'evaluated' ? r.latency.p50 : 0,
      accuracy: r.state === 'evaluated' ? r.accuracy * 100 : 0,
      group: frontIds.has(r.id) ? 'Pareto front' : 'other candidates',
    }));
  const front = points.filter((p) => p.group === 'Pareto front').sort((a, b) => a.latency - b.latency);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${title}: accuracy vs latency`, subtitle: `${points.length} trained candidates, ${front.length} on the front` },
    width: 560,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x: { field: 'latency', type: 'quantitative', title: 'latency p50 (ms, untrained model, this machine)', scale: { zero: false } },
          y: { field: 'accuracy', type: 'quantitative', title: 'validation accuracy (%)', scale: { zero: false } },
          color: { field: 'group', type: 'nominal', scale: { domain: ['Pareto front', 'other candidates'], range: ['#d62728', '#9e9e9e'] }, title: null },
        },
      },
      {
        data: { values: front },
        mark: { type: 'line', interpolate: 'step-after', color: '#d62728', strokeWidth: 1.5 },
        encoding: { x: { field: 'latency', type: 'quantitative' }, y: { field: 'accuracy', type: 'quantitative' } },
      },
    ],
  };
  return renderVegaLiteSvg(spec);
}
