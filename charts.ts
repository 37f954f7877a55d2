/**
 * Charts from vega-lite specs, with vega and vega-lite loaded on first use:
 * only a few commands draw (the search's report, compress, finalize), and
 * importing a stage must not load them (`import 'nas-edge/space'` loads
 * neither). A leaf module: every stage may import it, it imports no stage.
 */
import type { Spec } from 'vega';
import type { TopLevelSpec } from 'vega-lite';

/** A vega-lite spec compiled to vega (report.html ships the compiled spec). */
export async function compileVegaLite(spec: TopLevelSpec): Promise<Spec> {
  const { compile } = await import('vega-lite');
  return compile(spec).spec;
}

/** A vega-lite spec rendered to SVG headlessly (no browser). */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const vega = await import('vega');
  const view = new vega.View(vega.parse(await compileVegaLite(spec)), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
