/** compression.svg: test accuracy against latency for every variant of every front member. */
import type { TopLevelSpec } from 'vega-lite';
import { renderVegaLiteSvg } from '../charts.js';
import type { CompressionRow } from './types.js';

export async function renderCompressionSvg(rows: CompressionRow[]): Promise<string> {
  const values = rows
    .filter((r) => r.latency_p50_ms !== '')
    .map((r) => ({ id: r.id, variant: r.variant, latency: r.latency_p50_ms, accuracy: r.test_accuracy * 100, kb: r.file_bytes / 1024 }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Compressed front: test accuracy vs latency', subtitle: 'colour: variant; shape: front member; size: file size' },
    width: 560,
    height: 380,
    background: 'white',
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'latency', type: 'quantitative', title: 'latency p50 (ms, this machine)', scale: { zero: false } },
          y: { field: 'accuracy', type: 'quantitative', title: 'test accuracy (%)', scale: { zero: false } },
          color: { field: 'variant', type: 'nominal', scale: { domain: ['fp32', 'int8', 'pruned', 'pruned+int8'] } },
          size: { field: 'kb', type: 'quantitative', title: 'file KiB' },
          shape: { field: 'id', type: 'nominal', title: 'model' },
        },
      },
    ],
  };
  return renderVegaLiteSvg(spec);
}
