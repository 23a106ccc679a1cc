import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** A source file past this usually holds two concerns (docs/architecture.md). */
const MAX_SOURCE_LINES = 400;

function trackedSources(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.js', '*.mjs', '*.cjs'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '' && !path.startsWith('test/fixtures/'));
}

describe('source file sizes', () => {
  it(`keeps every source file, tests included, at ${MAX_SOURCE_LINES} lines or fewer`, () => {
    // Act
    const oversized = trackedSources()
      .map((path) => ({ path, lines: readFileSync(join(ROOT, path), 'utf8').split('\n').length - 1 }))
      .filter((file) => file.lines > MAX_SOURCE_LINES);

    // Assert
    expect(oversized).toEqual([]);
  });
});
