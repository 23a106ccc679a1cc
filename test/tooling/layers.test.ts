import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/local-cloud';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const temps: { remove: () => void }[] = [];
afterEach(() => {
  for (const temp of temps.splice(0)) temp.remove();
});

/** dependency-cruiser with the repository's rules (.dependency-cruiser.cjs) over `paths` in `cwd`: the violations it names. */
async function violations(cwd: string, paths: string[]): Promise<{ rule: string; from: string; to: string }[]> {
  const { stdout } = await run(process.execPath, [DEPCRUISE, '--config', join(cwd, '.dependency-cruiser.cjs'), '--output-type', 'json', ...paths], {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const result = JSON.parse(stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return result.summary.violations.map((violation) => ({ rule: violation.rule.name, from: violation.from, to: violation.to }));
}

/** A scratch tree with the repository's rules and the given source files. */
function tree(files: Record<string, string>): string {
  const temp = tempDir('yike-layers-');
  temps.push(temp);
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(temp.path, '.dependency-cruiser.cjs'));
  writeFileSync(join(temp.path, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', moduleResolution: 'node', strict: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(temp.path, path)), { recursive: true });
    writeFileSync(join(temp.path, path), text);
  }
  return temp.path;
}

describe('the layer rule (imports go down only, no cycles), checked by dependency-cruiser', () => {
  it('finds no violation in the repository', async () => {
    // Act
    const found = await violations(ROOT, ['functions', 'shared', 'cli', 'local', 'bench', 'scripts', 'test']);

    // Assert
    expect(found).toEqual([]);
  }, 60_000);

  it('refuses a deliberately added upward import: runtime importing the domain', async () => {
    // Arrange
    const cwd = tree({
      'shared/domain/jobs/apps.ts': 'export const APPS = 1;\n',
      'shared/runtime/config.ts': "import { APPS } from '../domain/jobs/apps';\nexport const config = APPS;\n",
    });

    // Act
    const found = await violations(cwd, ['shared']);

    // Assert
    expect(found).toEqual([{ rule: 'runtime-is-the-floor', from: 'shared/runtime/config.ts', to: 'shared/domain/jobs/apps.ts' }]);
  }, 30_000);

  it('refuses a domain module that imports an adapter instead of declaring a port, even for a type', async () => {
    // Arrange
    const cwd = tree({
      'shared/adapters/ice/client.ts': 'export interface IceClient { submit(): void }\n',
      'shared/domain/jobs/submit-job.ts': "import type { IceClient } from '../../adapters/ice/client';\nexport type Ice = IceClient;\n",
    });

    // Act
    const found = await violations(cwd, ['shared']);

    // Assert
    expect(found).toEqual([{ rule: 'domain-uses-ports-not-adapters', from: 'shared/domain/jobs/submit-job.ts', to: 'shared/adapters/ice/client.ts' }]);
  }, 30_000);

  it('refuses a trigger that reaches an adapter without the composition root', async () => {
    // Arrange
    const cwd = tree({
      'shared/adapters/oss/client.ts': 'export const oss = 1;\n',
      'shared/triggers/http/api.ts': "import { oss } from '../../adapters/oss/client';\nexport const api = oss;\n",
    });

    // Act
    const found = await violations(cwd, ['shared']);

    // Assert
    expect(found).toEqual([{ rule: 'triggers-through-composition', from: 'shared/triggers/http/api.ts', to: 'shared/adapters/oss/client.ts' }]);
  }, 30_000);

  it("refuses the page's browser code importing server code or a Node module, and server code importing it", async () => {
    // Arrange
    const cwd = tree({
      'shared/runtime/logger.ts': 'export const logger = 1;\n',
      'shared/triggers/http/page/page-contract.ts': 'export const STEPS = 1;\n',
      'shared/triggers/http/page/browser/main.ts':
        "import { STEPS } from '../page-contract';\nimport { logger } from '../../../../runtime/logger';\nimport { join } from 'node:path';\nexport const main = [STEPS, logger, join];\n",
      'shared/triggers/http/page/page.ts': "import { main } from './browser/main';\nexport const page = main;\n",
    });

    // Act
    const found = await violations(cwd, ['shared']);

    // Assert
    expect(found).toEqual([
      { rule: 'browser-code-is-bundled-not-imported', from: 'shared/triggers/http/page/page.ts', to: 'shared/triggers/http/page/browser/main.ts' },
      { rule: 'browser-code-stays-in-the-browser', from: 'shared/triggers/http/page/browser/main.ts', to: 'path' },
      { rule: 'browser-code-stays-in-the-browser', from: 'shared/triggers/http/page/browser/main.ts', to: 'shared/runtime/logger.ts' },
    ]);
  }, 30_000);

  it('refuses a circle of type-only imports inside one layer', async () => {
    // Arrange
    const cwd = tree({
      'local/ice/server.ts': "import type { Fault } from './faults';\nexport interface Server { fault?: Fault }\n",
      'local/ice/faults.ts': "import type { Server } from './server';\nexport interface Fault { server?: Server }\n",
    });

    // Act
    const found = await violations(cwd, ['local']);

    // Assert
    expect(found).toHaveLength(1);
    expect(found[0]!.rule).toBe('no-circular');
    expect([found[0]!.from, found[0]!.to].sort()).toEqual(['local/ice/faults.ts', 'local/ice/server.ts']);
  }, 30_000);
});
