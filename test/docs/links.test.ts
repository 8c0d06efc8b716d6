/**
 * Every link in README.md and docs/ leads somewhere: a relative link to a
 * file that exists, an anchor to a heading of its page. Every docs page is
 * reachable from the README, and the README stays short, with a table of
 * contents that lists its sections.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorOf, anchors, links } from './markdown.js';
import { ROOT } from '../helpers/consumer-project.js';

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const text = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** What is wrong with one link from `page`, or undefined when it leads somewhere. */
function brokenReason(page: string, target: string): string | undefined {
  if (/^(https?|mailto):/.test(target)) return undefined; // not fetched: the tests reach loopback only
  const [path, anchor] = target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? page : relative(ROOT, join(dirname(join(ROOT, page)), decodeURIComponent(path)));
  if (file.startsWith('..')) return `${target} leaves the repository`;
  if (!existsSync(join(ROOT, file))) return `${target}: ${file} does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  return anchors(text(file)).has(anchor) ? undefined : `${target}: ${file} has no heading with the anchor #${anchor}`;
}

describe('documentation links', () => {
  it.each(pages)('%s: every relative link and anchor resolves', (page) => {
    const broken = links(text(page))
      .map(({ target, line }) => ({ line, why: brokenReason(page, target) }))
      .filter((link) => link.why !== undefined)
      .map(({ line, why }) => `${page}:${line}: ${why}`);
    expect(broken).toEqual([]);
  });

  it('reaches every docs page from the README', () => {
    const linked = new Set(links(text('README.md')).map(({ target }) => target.split('#')[0]));
    expect(pages.filter((page) => page !== 'README.md' && !linked.has(page))).toEqual([]);
  });

  it('finds a broken link and a broken anchor (the check can fail)', () => {
    expect(brokenReason('README.md', 'docs/nope.md')).toContain('does not exist');
    expect(brokenReason('README.md', 'docs/client.md#no-such-heading')).toContain('no heading');
    expect(brokenReason('docs/client.md', '../README.md#contents')).toBeUndefined();
    expect(anchorOf('Limits and `security`, too!')).toBe('limits-and-security-too');
  });
});

describe('README.md', () => {
  const readme = text('README.md');

  it('stays at most 300 lines', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(300);
  });

  it('lists every section in its table of contents', () => {
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((match) => match[1]).filter((title) => title !== 'Contents');
    const contents = readme.slice(readme.indexOf('## Contents'), readme.indexOf('\n## ', readme.indexOf('## Contents') + 1));
    const listed = [...contents.matchAll(/^- \[(.+?)\]\(#(.+?)\)$/gm)].map((match) => match[1]);
    expect(listed).toEqual(sections);
  });
});

describe('citations of the docs in the code', () => {
  /** Every `docs/<page>.md#anchor` written in a source or test file, with where it is. */
  function citations(): Array<{ file: string; target: string }> {
    const found: Array<{ file: string; target: string }> = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && path !== 'test/docs/links.test.ts') {
          for (const match of readFileSync(join(ROOT, path), 'utf8').matchAll(/\bdocs\/[\w.-]+\.md(?:#[\w-]+)?/g)) found.push({ file: path, target: match[0] });
        }
      }
    };
    for (const dir of ['src', 'machines', 'test']) walk(dir);
    return found;
  }

  it('point at pages and headings that exist', () => {
    const all = citations();
    expect(all.some(({ file }) => file.startsWith('src/protocol/'))).toBe(true);
    const broken = all.map(({ file, target }) => ({ file, why: brokenReason('README.md', target) })).filter(({ why }) => why !== undefined);
    expect(broken).toEqual([]);
  });
});
