import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * Relative links and #anchors of markdown files, checked the way GitHub renders them.
 * Fenced code blocks and inline code are not markdown: nothing inside them is a link, a heading or an anchor.
 */

/** One link found in a markdown file: `[text](target)`, `![alt](target)`, `[ref]: target`, `<a href>` or `<img src>`. */
export interface MarkdownLink {
  target: string;
  line: number;
}

/** A link that does not resolve, with where it is and why. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

const FENCE = /^\s*(`{3,}|~{3,})/;

/** The text with every fenced code block blanked out (line breaks kept, so offsets still give line numbers). */
function maskFencedCode(markdown: string): string {
  const lines = markdown.split('\n');
  let open: string | undefined;
  return lines
    .map((line) => {
      const fence = FENCE.exec(line)?.[1];
      if (open === undefined) {
        if (fence === undefined) return line;
        open = fence;
        return '';
      }
      // A fence closes with the same character, at least as long, and nothing after it.
      if (fence !== undefined && fence[0] === open[0] && fence.length >= open.length && line.trim() === fence) open = undefined;
      return '';
    })
    .join('\n');
}

/** The text with inline code spans (`` `x` ``, ``` ``x`` ```) blanked out; an unmatched backtick run stays literal. */
function maskInlineCode(markdown: string): string {
  let out = '';
  let index = 0;
  while (index < markdown.length) {
    if (markdown[index] !== '`') {
      out += markdown[index];
      index++;
      continue;
    }
    let runEnd = index;
    while (markdown[runEnd] === '`') runEnd++;
    const run = markdown.slice(index, runEnd);
    const close = findBacktickRun(markdown, runEnd, run.length);
    if (close === -1) {
      out += run;
      index = runEnd;
      continue;
    }
    const end = close + run.length;
    out += markdown.slice(index, end).replace(/[^\n]/g, ' ');
    index = end;
  }
  return out;
}

function findBacktickRun(text: string, from: number, length: number): number {
  let index = from;
  while (index < text.length) {
    if (text[index] !== '`') {
      index++;
      continue;
    }
    let end = index;
    while (text[end] === '`') end++;
    if (end - index === length) return index;
    index = end;
  }
  return -1;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset; index++) if (text[index] === '\n') line++;
  return line;
}

// [text](target "title"): text may hold one level of brackets (an image inside a link); target may be <…> or hold balanced parentheses.
const INLINE_LINK = /!?\[((?:[^[\]]|\[[^[\]]*\])*)\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]\n]+\]:[ \t]*(<[^>\n]*>|\S+)/gm;
const HTML_LINK = /<(?:a|img)\b[^>]*?\s(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi;

function inlineLinks(text: string, base: number, all: string, found: MarkdownLink[]): void {
  for (const match of text.matchAll(INLINE_LINK)) {
    const offset = base + match.index;
    found.push({ target: unwrapAngle(match[2]!), line: lineAt(all, offset) });
    // An image inside a link's text ([![alt](img.png)](page.md)) is a link too.
    inlineLinks(match[1]!, offset + match[0].indexOf('[') + 1, all, found);
  }
}

function unwrapAngle(target: string): string {
  return target.startsWith('<') && target.endsWith('>') ? target.slice(1, -1) : target;
}

/** Every link and image target in the markdown, outside fenced code blocks and inline code, in order of appearance. */
export function extractLinks(markdown: string): MarkdownLink[] {
  const text = maskInlineCode(maskFencedCode(markdown));
  const found: MarkdownLink[] = [];
  inlineLinks(text, 0, text, found);
  for (const match of text.matchAll(REFERENCE_DEFINITION)) found.push({ target: unwrapAngle(match[1]!), line: lineAt(text, match.index) });
  for (const match of text.matchAll(HTML_LINK)) found.push({ target: match[1] ?? match[2] ?? '', line: lineAt(text, match.index) });
  return found.sort((a, b) => a.line - b.line);
}

/** Links that leave the repository: web pages and mail addresses are not checked. */
export function isExternal(target: string): boolean {
  return /^(?:https?:|mailto:)/i.test(target) || target.startsWith('//');
}

/**
 * GitHub's anchor for a heading's text (github-slugger, without the duplicate counter): the rendered text, lower-case,
 * without anything but letters (unicode ones too, with their combining marks), digits, spaces, hyphens and underscores,
 * each space a hyphen.
 */
export function githubSlug(heading: string): string {
  return renderedText(heading)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** A heading's text as GitHub renders it: code spans keep their content, links their text, emphasis and HTML tags go. */
function renderedText(heading: string): string {
  return heading
    .split(/(`+[^`]*?`+)/)
    .map((part, index) => {
      if (index % 2 === 1) return part.replace(/^`+|`+$/g, '');
      return part
        .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/<[^>]+>/g, '')
        .replace(/(\*\*|__)(.+?)\1/g, '$2')
        .replace(/(^|[^\p{L}\p{N}])([*_])(\S(?:.*?\S)?)\2(?![\p{L}\p{N}])/gu, '$1$3')
        .replace(/&amp;/g, '&')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"');
    })
    .join('')
    .trim();
}

/** The headings' texts, in order (ATX `#` headings and setext `===` / `---` ones), outside fenced code blocks. */
function headings(markdown: string): string[] {
  const lines = maskFencedCode(markdown).split('\n');
  const found: string[] = [];
  lines.forEach((line, index) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) {
      found.push(atx[1] ?? '');
      return;
    }
    const previous = lines[index - 1];
    const isParagraphLine = previous !== undefined && previous.trim() !== '' && !/^ {0,3}(?:[#>|*+-]|\d+[.)])/.test(previous);
    if (isParagraphLine && /^ {0,3}(?:=+|-+)[ \t]*$/.test(line)) found.push(previous.trim());
  });
  return found;
}

/** Every anchor a page offers: its headings' slugs (a repeated slug gets -1, -2, …, as on GitHub) and its `<a id>` / `<a name>`. */
export function anchors(markdown: string): Set<string> {
  const occurrences = new Map<string, number>();
  const found = new Set<string>();
  for (const heading of headings(markdown)) {
    const original = githubSlug(heading);
    let slug = original;
    while (occurrences.has(slug)) {
      const count = occurrences.get(original)! + 1;
      occurrences.set(original, count);
      slug = `${original}-${count}`;
    }
    occurrences.set(slug, 0);
    found.add(slug);
  }
  const text = maskInlineCode(maskFencedCode(markdown));
  for (const match of text.matchAll(/<a\b[^>]*?\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) found.add(match[1] ?? match[2] ?? '');
  return found;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The links of `files` (paths relative to `root`) that do not resolve: a missing file or folder (relative to the linking
 * file; a leading `/` is the repository root, as on GitHub), a path outside the repository, or an #anchor that names no
 * heading and no `<a id>` of the page it points at.
 */
export function findBrokenLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (path: string) => {
    if (!anchorCache.has(path)) anchorCache.set(path, anchors(readFileSync(path, 'utf8')));
    return anchorCache.get(path)!;
  };
  for (const file of files) {
    const from = resolve(root, file);
    for (const { target, line } of extractLinks(readFileSync(from, 'utf8'))) {
      if (isExternal(target)) continue;
      const report = (reason: string) => broken.push({ file, line, target, reason });
      const hash = target.indexOf('#');
      const pathPart = decode(hash === -1 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
      const fragment = hash === -1 ? undefined : decode(target.slice(hash + 1));
      if (pathPart === '' && fragment === undefined) {
        report('empty link');
        continue;
      }
      const resolved = pathPart === '' ? from : pathPart.startsWith('/') ? join(root, pathPart) : resolve(dirname(from), pathPart);
      const inside = relative(root, resolved);
      if (inside.startsWith('..') || isAbsolute(inside)) {
        report('points outside the repository');
        continue;
      }
      if (!existsSync(resolved)) {
        report(`no such file or folder: ${inside}`);
        continue;
      }
      if (fragment === undefined) continue;
      if (statSync(resolved).isDirectory() || extname(resolved).toLowerCase() !== '.md') {
        report(`#${fragment} on ${inside}, which is not a markdown page`);
        continue;
      }
      if (!anchorsOf(resolved).has(fragment)) report(`no heading or <a id> "${fragment}" in ${inside}`);
    }
  }
  return broken;
}

/** Lines of a text file as `wc -l` counts them (a final line break ends the last line, it does not start one). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
