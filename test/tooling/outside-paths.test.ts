import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOutsidePaths, type AllowedPaths } from '../helpers/outside-paths';

const ROOT = join(__dirname, '..', '..');

/**
 * Relative paths that name nothing on purpose, each file with its reason. Every other tracked file must only point
 * at what a fresh clone has: facts from elsewhere are cited by their public source (docs/platform-facts.md).
 */
const MADE_UP_PATHS: AllowedPaths = {
  // The link checker's own cases: a link that leaves the repository is what it must report.
  'test/docs/links.test.ts': ['../README.md', '../elsewhere.md'],
  // Imports written into a scratch copy of the layers, resolved there.
  'test/tooling/layers.test.ts': [
    '../domain/jobs/apps',
    '../../adapters/ice/client',
    '../../adapters/oss/client',
    '../page-contract',
    '../../../../runtime/logger',
  ],
  // An object key that tries to climb out of its prefix: the HTTP API must refuse it.
  'test/reliability/fuzz-http.test.ts': ['../../.yike-jobs/x.png'],
};

/** The scanner and its own cases: made-up paths only. */
const SCANNER_FILES = new Set(['test/helpers/outside-paths.ts', 'test/tooling/outside-paths.test.ts']);

/** Written piece by piece so that a search of the repository (git grep) does not find them here. */
const MACHINE_PATH = ['', 'work', 'shared', 'reference', 'README.md'].join('/');
const BESIDE_THE_CLONE = ['..', 'shared', 'reference', 'README.md'].join('/');

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '' && !SCANNER_FILES.has(path));
}

describe('paths outside the repository', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'outside-paths-'));
    mkdirSync(join(root, 'shared', 'runtime'), { recursive: true });
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'shared', 'runtime', 'config.ts'), '');
    writeFileSync(join(root, 'README.md'), '# Top\n');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('reports machine paths, relative paths that leave the repository or name nothing, and unknown shared/ paths', () => {
    // Arrange
    writeFileSync(
      join(root, 'shared', 'runtime', 'facts.ts'),
      [
        `/** From ${MACHINE_PATH}, section "ACS3". */`,
        `/** The context fields (${BESIDE_THE_CLONE}). */`,
        "import { parseConfig } from './config';",
        "import { loadConfig } from '../runtime/config';",
        '/** See shared/reference/events, and shared/runtime/config.ts. */',
      ].join('\n'),
    );
    writeFileSync(join(root, 'docs', 'page.md'), 'Back to [the README](../README.md), and [out](../../elsewhere.md).\n');

    // Act
    const found = findOutsidePaths(root, ['shared/runtime/facts.ts', 'docs/page.md']);

    // Assert
    expect(found).toEqual([
      { file: 'shared/runtime/facts.ts', line: 1, path: '/work/shared', reason: 'an absolute path of a development machine' },
      { file: 'shared/runtime/facts.ts', line: 2, path: BESIDE_THE_CLONE, reason: 'names nothing in the repository (shared/shared/reference/README.md)' },
      { file: 'shared/runtime/facts.ts', line: 5, path: 'shared/reference', reason: 'names nothing in the repository (shared/ is ours)' },
      { file: 'docs/page.md', line: 1, path: '../../elsewhere.md', reason: 'climbs out of the repository' },
    ]);
  });

  it('passes a made-up relative path only in the file that is allowed it', () => {
    // Arrange
    writeFileSync(join(root, 'docs', 'a.md'), 'the case [escape](../nowhere.md)\n');
    writeFileSync(join(root, 'docs', 'b.md'), 'the case [escape](../nowhere.md)\n');

    // Act
    const found = findOutsidePaths(root, ['docs/a.md', 'docs/b.md'], { 'docs/a.md': ['../nowhere.md'] });

    // Assert
    expect(found).toEqual([{ file: 'docs/b.md', line: 1, path: '../nowhere.md', reason: 'names nothing in the repository (nowhere.md)' }]);
  });

  it('finds none in any tracked file of this repository', () => {
    // Act
    const found = findOutsidePaths(ROOT, trackedFiles(), MADE_UP_PATHS);

    // Assert
    expect(found).toEqual([]);
  });
});
