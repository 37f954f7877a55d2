/**
 * The documentation's relative links: README.md, results/README.md and every
 * page under docs/ link to each other and to headings inside each other, and
 * pages move. Every relative link must reach a file that exists, and every
 * `#anchor` a heading of that file (GitHub's heading ids). Each bench
 * script documents its measurements on a page of its own, which the index lists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');

/**
 * Pages that other branches add (the layers page, the supernet's page). A
 * link to one passes while the page is missing here; once it exists it is
 * checked like any other. Drop an entry when its page has landed.
 */
const PAGES_ADDED_ELSEWHERE = new Set<string>();

function markdownFiles(): string[] {
  const docs = join(repo, 'docs');
  const pages = existsSync(docs)
    ? readdirSync(docs, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith('.md'))
        .map((e) => join(e.parentPath, e.name))
    : [];
  return [join(repo, 'README.md'), join(repo, 'results', 'README.md'), ...pages];
}

/** The text outside fenced code blocks and inline code, where links live. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's id for a heading: lower case, punctuation dropped, each space a dash. */
function headingId(
heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading id of a markdown file, with GitHub's -1, -2… for repeats. */
function headingIds(file: string): Set<string> {
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  const text = readFileSync(file, 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = headingId(heading);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

/** Problems with the relative links of one file: each names the link and why it fails. */
function brokenLinks(file: string): string[] {
  const problems: string[] = [];
  const text = prose(readFileSync(file, 'utf8'));
  for (const [, target] of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [path, anchor] = target.split('#', 2);
    const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const shown = relative(repo, destination).split('\\').join('/');
    if (!existsSync(destination)) {
      if (!PAGES_ADDED_ELSEWHERE.has(shown)) problems.push(`${target}: ${shown} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(destination).isDirectory() || !destination.endsWith('.md')) {
      problems.push(`${target}: an anchor into ${shown}, which is not a markdown file`);
    } else if (!headingIds(destination).has(anchor)) {
      problems.push(`${target}: ${shown} has no heading with the id '${anchor}'`);
    }
  }
  return problems;
}

describe('documentation links', () => {
  it('finds the pages it checks (README, results/README and docs/)', () => {
    const files = markdownFiles().map((f) => relative(repo, f));
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'index.md'));
  });

  it('computes heading ids as GitHub does', () => {
    expect(headingId('Does a larger validation set help?')).toBe('does-a-larger-validation-set-help');
    expect(headingId('Search — `npm run bench:search`')).toBe('search--npm-run-benchsearch');
    expect(headingId('Ranking on more images, one batch order')).toBe('ranking-on-more-images-one-batch-order');
  });

  it('every `npm run bench:*` script has its page under docs/bench/, listed in docs/index.md', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const benches = scripts.filter((s) => s.startsWith('bench:')).map((s) => s.slice('bench:'.length));
    expect(benches.length).toBeGreaterThan(0);
    const index = readFileSync(join(repo, 'docs', 'index.md'), 'utf8');
    const missing = benches.filter((b) => !existsSync(join(repo, 'docs', 'bench', `${b}.md`)) || !index.includes(`](bench/${b}.md)`));
    expect(missing).toEqual([]);
  });

  for (const file of markdownFiles()) {
    it(`${relative(repo, file)}: every relative link reaches a file, every anchor a heading`, () => {
      expect(brokenLinks(file)).toEqual([]);
    });
  }
});
