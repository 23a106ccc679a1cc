import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anchors, extractLinks, findBrokenLinks, githubSlug, isExternal, lineCount } from '../helpers/markdown-links';

const ROOT = join(__dirname, '..', '..');
const README_MAX_LINES = 200;

/** README.md and every page under docs/, as paths relative to the repository root. */
function documentationFiles(): string[] {
  const pages = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...pages];
}

describe('GitHub heading anchors', () => {
  it('lower-cases, drops punctuation and code marks, and turns each space into a hyphen', () => {
    // Act / Assert
    expect(githubSlug('HTTP API (`http-submit`)')).toBe('http-api-http-submit');
    expect(githubSlug('Set-up (two commands)')).toBe('set-up-two-commands');
    expect(githubSlug('Operator tool: `yike-jobs`')).toBe('operator-tool-yike-jobs');
    expect(githubSlug('Real cloud: one variable away')).toBe('real-cloud-one-variable-away');
    expect(githubSlug('Image inputs (what reaches ICE, and what never does)')).toBe('image-inputs-what-reaches-ice-and-what-never-does');
  });

  it('keeps unicode letters, digits and underscores, and renders links and emphasis to their text', () => {
    // Act / Assert
    expect(githubSlug('Über café → 2 Schritte')).toBe('über-café--2-schritte');
    expect(githubSlug('`RECORDS_PREFIX` and snake_case')).toBe('records_prefix-and-snake_case');
    expect(githubSlug('See [the page](page.md) *now*, **really**')).toBe('see-the-page-now-really');
    expect(githubSlug('Deploy (Serverless Devs, `fc3` component)')).toBe('deploy-serverless-devs-fc3-component');
  });

  it('numbers a repeated heading -1, -2 and takes explicit <a id> and <a name> anchors', () => {
    // Arrange
    const page = ['# Notes', '## Usage', 'text', '## Usage', '### Usage', 'Heading', '=======', '<a id="custom-spot"></a>', "<a name='old-name'></a>"].join(
      '\n',
    );

    // Act
    const found = anchors(page);

    // Assert
    expect([...found]).toEqual(['notes', 'usage', 'usage-1', 'usage-2', 'heading', 'custom-spot', 'old-name']);
  });

  it('ignores headings and anchors inside fenced code blocks', () => {
    // Arrange
    const page = ['# Real', '```bash', '# common: a shell comment', '<a id="in-code"></a>', '```', '~~~~', '## Not either', '~~~~'].join('\n');

    // Act
    const found = anchors(page);

    // Assert
    expect([...found]).toEqual(['real']);
  });
});

describe('link extraction', () => {
  it('finds markdown links, images, reference definitions and <a href> / <img src>, with their lines', () => {
    // Arrange
    const page = [
      'See [the API](docs/http-api.md#errors) and ![shot](docs/try-page.png "The page").',
      '[![badge](img/badge.svg)](docs/page.md) <a href="docs/deploy.md">deploy</a>',
      '[ref]: ./docs/lifecycle.md',
      "<img src='docs/try-page.png'> [same page](#set-up) [web](https://example.com) [mail](mailto:a@b.c)",
    ].join('\n');

    // Act
    const links = extractLinks(page);

    // Assert
    expect(links).toEqual([
      { target: 'docs/http-api.md#errors', line: 1 },
      { target: 'docs/try-page.png', line: 1 },
      { target: 'docs/page.md', line: 2 },
      { target: 'img/badge.svg', line: 2 },
      { target: 'docs/deploy.md', line: 2 },
      { target: './docs/lifecycle.md', line: 3 },
      { target: '#set-up', line: 4 },
      { target: 'https://example.com', line: 4 },
      { target: 'mailto:a@b.c', line: 4 },
      { target: 'docs/try-page.png', line: 4 },
    ]);
    expect(links.filter((link) => isExternal(link.target)).map((link) => link.target)).toEqual(['https://example.com', 'mailto:a@b.c']);
  });

  it('skips links inside fenced code blocks and inline code', () => {
    // Arrange
    const page = [
      '```markdown',
      '[in a fence](missing.md)',
      '```',
      'Inline `[not a link](missing.md)` and ``[nor this](a`b.md)`` but [this one](kept.md).',
      '  ```js',
      '  const x = \'<a href="missing.md">\';',
      '  ```',
    ].join('\n');

    // Act
    const links = extractLinks(page);

    // Assert
    expect(links).toEqual([{ target: 'kept.md', line: 4 }]);
  });
});

describe('broken links', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'markdown-links-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'page.md'), '# The page\n\n## What it needs\n\nBack to [the README](../README.md#top).\n');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('reports a missing file, a missing anchor on another page or the same page, and a path outside the repository', () => {
    // Arrange
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Top',
        '[ok](docs/page.md#what-it-needs) [ok too](docs/) [self](#top)',
        '[gone](docs/nope.md)',
        '[bad anchor](docs/page.md#what-it-wants)',
        '[bad self](#bottom)',
        '[escape](../elsewhere.md)',
        '[anchor on a folder](docs/#x)',
      ].join('\n'),
    );

    // Act
    const broken = findBrokenLinks(root, ['README.md', 'docs/page.md']);

    // Assert
    expect(broken).toEqual([
      { file: 'README.md', line: 3, target: 'docs/nope.md', reason: 'no such file or folder: docs/nope.md' },
      { file: 'README.md', line: 4, target: 'docs/page.md#what-it-wants', reason: 'no heading or <a id> "what-it-wants" in docs/page.md' },
      { file: 'README.md', line: 5, target: '#bottom', reason: 'no heading or <a id> "bottom" in README.md' },
      { file: 'README.md', line: 6, target: '../elsewhere.md', reason: 'points outside the repository' },
      { file: 'README.md', line: 7, target: 'docs/#x', reason: '#x on docs, which is not a markdown page' },
    ]);
  });

  it('resolves percent-encoded paths and anchors, and links relative to the linking page', () => {
    // Arrange
    writeFileSync(join(root, 'docs', 'two words.md'), '# Café menu\n');
    writeFileSync(join(root, 'README.md'), '# Top\n[a](docs/two%20words.md#caf%C3%A9-menu) [b](<docs/two words.md>)\n');
    writeFileSync(join(root, 'docs', 'index.md'), '[c](page.md#what-it-needs) [d](./two%20words.md)\n');

    // Act
    const broken = findBrokenLinks(root, ['README.md', 'docs/index.md']);

    // Assert
    expect(broken).toEqual([]);
  });
});

describe('the repository documentation', () => {
  it(`keeps README.md a front door of at most ${README_MAX_LINES} lines`, () => {
    // Act
    const lines = lineCount(readFileSync(join(ROOT, 'README.md'), 'utf8'));

    // Assert
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('resolves every relative link and #anchor in README.md and docs/*.md', () => {
    // Arrange
    const files = documentationFiles();

    // Act
    const broken = findBrokenLinks(ROOT, files);

    // Assert
    expect(files.length).toBeGreaterThan(1);
    expect(broken).toEqual([]);
  });

  it('links every docs page from README.md', () => {
    // Arrange
    const pages = documentationFiles().filter((file) => file !== 'README.md');
    const linked = new Set(extractLinks(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((link) => link.target.replace(/#.*$/, '')));

    // Act
    const unlinked = pages.filter((page) => !linked.has(page));

    // Assert
    expect(unlinked).toEqual([]);
  });
});
