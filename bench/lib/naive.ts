import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/**
 * The deploy a user would otherwise make, built from the same sources: every .ts under functions/ and shared/
 * compiled by the TypeScript compiler to CommonJS (no bundling), run with node_modules beside it, and a handler
 * that imports its clients at the top (@alicloud/openapi-client, @alicloud/tea-util, ali-oss). Returns the
 * entry file of each function.
 */
export function buildNaiveDeploy(root: string, outDir: string, functions: readonly string[]): Record<string, string> {
  // typescript is a devDependency loaded from the project, not bundled into the bench.
  const ts = createRequire(join(root, 'package.json'))('typescript') as typeof import('typescript');
  for (const folder of ['functions', 'shared']) {
    for (const file of typeScriptFiles(join(root, folder))) {
      const output = ts.transpileModule(readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
      });
      const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, output.outputText);
    }
  }
  const entries: Record<string, string> = {};
  for (const name of functions) {
    const entry = join(outDir, `${name}.js`);
    writeFileSync(
      entry,
      [
        "require('@alicloud/openapi-client');",
        "require('@alicloud/tea-util');",
        "require('ali-oss');",
        `module.exports = require('./functions/${name}/index.js');`,
        '',
      ].join('\n'),
    );
    entries[name] = entry;
  }
  return entries;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}
