/**
 * report.html as text: one self-contained page (vega's browser runtime,
 * the compiled chart specs and the tables inline; nothing is fetched), so it
 * opens from disk, from a copied run directory or as a mail attachment.
 * Everything from a run (names, ids, CSV cells) is escaped on the way in.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FinalSection } from './report-final.js';
import type { ReportPage } from './report-html.js';
import { isRelativePath, type PeopleTable, type ReportTable } from './report-table.js';
import type { VariantsSection } from './report-variants.js';

/** What each known table is, shown as its heading when it is shown raw (a file the page could not read as documented). */
const TABLE_TITLES: Record<string, string> = {
  'compression.csv': 'Compression: each front member as fp32, INT8, pruned and pruned + INT8 (nas compress; test split)',
  'finalized.csv': 'Finalized models: longer training, then measured on the test split',
};
/** Columns whose cells are paths relative to the run directory, shown as links. */
const LINK_COLUMNS = new Set(['file', 'files', 'path', 'dir']);

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe inside HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON safe inside a <script> element: `<` never appears literally (so no
 * `</script>` or `<!--` can end or change the element), nor do the two line
 * separators that older JavaScript parsers reject.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

let runtime: string | undefined;

/** vega's browser bundle (a UMD script defining `vega`), from the installed package. */
export function vegaBrowserRuntime(): string {
  if (runtime === undefined) {
    // 'vega' resolves to build/vega.module.js; the minified browser bundle sits beside it.
    const file = join(dirname(createRequire(import.meta.url).resolve('vega')), 'vega.min.js');
    // A literal </script inside the bundle would end the element early; in a JS string or regex `<\/` means the same.
    runtime = readFileSync(file, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  }
  return runtime;
}

const isNumber = (cell: string) => /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(cell);

function formatCell(cell: string, column: string): string {
  if (isNumber(cell)) {
    const n = Number(cell);
    const shown = Number.isInteger(n) ? cell : String(Number(n.toPrecision(4)));
    return `<td class="num" title="${escapeHtml(cell)}">${escapeHtml(shown)}</td>`;
  }
  if (LINK_COLUMNS.has(column) && isRelativePath(cell)) {
    return `<td><a href="${escapeHtml(encodeURI(cell))}">${escapeHtml(cell)}</a></td>`;
  }
  return `<td>${escapeHtml(cell)}</td>`;
}

function tableHtml(table: ReportTable): string {
  const heading = `<h2>${escapeHtml(TABLE_TITLES[table.file] ?? table.file)}</h2>`;
  if (table.state === 'unreadable') {
    return `<section class="table">${heading}<p class="problem">${escapeHtml(table.file)} could not be read: ${escapeHtml(table.error)}</p></section>`;
  }
  const head = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${table.columns.map((c, i) => formatCell(row[i] ?? '', c)).join('')}</tr>`).join('\n');
  const source = `<p class="source">from <a href="${escapeHtml(encodeURI(table.file))}">${escapeHtml(table.file)}</a>, ${table.rows.length} row(s)</p>`;
  return `<section class="table" data-file="${escapeHtml(table.file)}">${heading}${source}<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></section>`;
}

/** A link for people: the text, escaped; the href encoded and escaped. */
const link = (href: string, text: string) => `<a href="${escapeHtml(encodeURI(href))}">${escapeHtml(text)}</a>`;

/** A table formatted for people: the raw CSV value of a figure on hover, links where the cell has one. */
function peopleTableHtml(table: PeopleTable): string {
  const head = table.columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.title)}</th>`).join('');
  const body = table.rows
    .map((row) => `<tr>${row.map((cell, i) => {
      const cls = table.columns[i]?.numeric ? ' class="num"' : '';
      const title = cell.raw === undefined ? '' : ` title="${escapeHtml(cell.raw)}"`;
      return `<td${cls}${title}>${cell.href ? link(cell.href, cell.text) : escapeHtml(cell.text)}</td>`;
    }).join('')}</tr>`)
    .join('\n');
  return `<table class="people" data-file="${escapeHtml(table.file)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>
<p class="source">figures rounded for reading; ${link(table.file, table.file)} holds them raw and complete (hover a figure for its raw value)</p>`;
}

function finalHtml(final: FinalSection): string {
  const heading = '<h2>Final models</h2>';
  if (final.state === 'problem') return `<section id="final">${heading}<p class="problem">${escapeHtml(final.problem)}</p>${tableHtml(final.raw)}</section>`;
  const verdicts = final.verdicts.length
    ? `<ul class="verdicts">${final.verdicts.map((v) => `<li class="verdict ${v.state}" data-baseline="${escapeHtml(v.baseline)}">${escapeHtml(v.text)}</li>`).join('')}</ul>`
    : '<p class="source">No hand-designed baselines were finalized (--no-baselines), so there is no verdict.</p>';
  return `<section id="final">${heading}
<p class="lead">${escapeHtml(final.lead)}. Each hand-designed baseline against the finalized front (a front model dominates a baseline when its test accuracy reaches the baseline's lower 95% bound and its p50 is no higher within the latency noise; summary.md states the rule):</p>
${verdicts}
<div id="final-chart" class="chart"></div>
${peopleTableHtml(final.table)}
</section>`;
}

function variantsHtml(variants: VariantsSection): string {
  const heading = '<h2>Deployable variants</h2>';
  if (variants.state === 'problem') return `<section id="variants">${heading}<p class="problem">${escapeHtml(variants.problem)}</p>${tableHtml(variants.raw)}</section>`;
  return `<section id="variants">${heading}
<p class="lead">${variants.models} front model(s) compressed by <code>nas compress</code>: test accuracy over the test split (onnxruntime), latency from one interleaved run of each model's variants.</p>
<div id="variants-chart" class="chart"></div>
${peopleTableHtml(variants.table)}
</section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1140px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 6px; border-bottom: 2px solid #eee; padding-bottom: 2px; }
p.teacher { margin: 2px 0 4px; font-weight: 600; }
ul.facts { margin: 4px 0 6px; padding-left: 18px; color: #444; }
p.files { margin: 0 0 12px; overflow-wrap: anywhere; }
p.lead { margin: 4px 0 8px; }
ul.verdicts { list-style: none; padding: 0; margin: 6px 0 12px; }
li.verdict { margin: 4px 0; padding: 4px 10px; border-left: 4px solid #999; background: #fafafa; }
li.verdict.dominated { border-color: #2ca02c; } li.verdict.failed { border-color: #d62728; background: #fff5f5; font-weight: 600; }
.chart { margin: 12px 0; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.people { width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f4f4f4; font-weight: 600; } th.num, td.num { text-align: right; } td.num { white-space: nowrap; }
p.source { margin: 2px 0 6px; color: #666; font-size: 12px; }
p.problem { color: #a00; }
#tooltip { position: absolute; pointer-events: none; background: rgba(255,255,255,0.96); border: 1px solid #999; border-radius: 4px;
  padding: 6px 9px; font-size: 12px; box-shadow: 0 2px 6px rgba(0,0,0,0.2); max-width: 420px; z-index: 10; }
#tooltip b { font-weight: 600; }`;

/**
 * Draws the charts with vega's SVG renderer (marks stay countable DOM nodes),
 * with a tooltip that shows each point's figures as plain text. Clicking a
 * point follows its `href` (vega's own link handling).
 */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var tip = document.getElementById('tooltip');
  function showTooltip(handler, event, item, value) {
    if (value === null || value === undefined || value === '' || typeof value !== 'object') { tip.hidden = true; return; }
    tip.replaceChildren();
    Object.keys(value).forEach(function (key) {
      var row = document.createElement('div');
      var label = document.createElement('b');
      label.textContent = key + ': ';
      row.append(label, String(value[key]));
      tip.append(row);
    });
    tip.hidden = false;
    // Kept inside the page: a tooltip past the right edge would widen it and bring a sideways scrollbar.
    var right = document.documentElement.clientWidth + window.scrollX - 8;
    var left = event.pageX + 14;
    if (left + tip.offsetWidth > right) left = Math.max(window.scrollX + 4, event.pageX - 14 - tip.offsetWidth);
    tip.style.left = left + 'px';
    tip.style.top = (event.pageY + 14) + 'px';
  }
  var views = {};
  Object.keys(data.charts).forEach(function (name) {
    var view = new vega.View(vega.parse(data.charts[name]), { renderer: 'svg', container: '#' + name + '-chart', hover: true });
    view.tooltip(showTooltip);
    views[name] = view;
    view.runAsync().catch(function (error) { console.error('chart ' + name + ': ' + error); });
  });
  // For scripting from the console (and the tests): the vega views by chart.
  window.nasReport = { views: views };
})();
`;

/** The whole page; `runtime` is vega's browser bundle (vegaBrowserRuntime()). */
export function renderReportHtml(page: ReportPage, runtime: string): string {
  const facts = page.facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('');
  const files = page.files.length ? `<p class="files">files: ${page.files.map((f) => `<a href="${escapeHtml(encodeURI(f))}">${escapeHtml(f)}</a>`).join(' · ')}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`nas-edge report: ${page.title}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(`Search run ${page.title}`)}</h1><p class="teacher">${escapeHtml(page.teacher)}</p><ul class="facts">${facts}</ul>${files}</header>
<noscript><p class="problem">The charts need JavaScript; finalized.svg, compression.svg, pareto.svg and the CSV files hold the same figures.</p></noscript>
${page.final ? finalHtml(page.final) : ''}
${page.variants ? variantsHtml(page.variants) : ''}
<section id="search">${page.final || page.variants ? '<h2>The search</h2>' : ''}
<div id="pareto-chart" class="chart"></div>
<div id="hypervolume-chart" class="chart"></div>
</section>
${page.tables.map(tableHtml).join('\n')}
<div id="tooltip" role="tooltip" hidden></div>
<script type="application/json" id="report-data">${jsonForScript({ charts: page.charts })}</script>
<script>${runtime}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
