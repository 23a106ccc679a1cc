// Bundles every FC function (functions/<name>/index.ts -> dist/<name>/index.js, exporting `handler`)
// and the command-line tools (cli/, local/, scripts/, bench/ entry points -> dist/<folder>/<name>.js).
import { build } from 'esbuild';
import { readdirSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

const functionNames = readdirSync(join(root, 'functions')).filter((name) =>
  existsSync(join(root, 'functions', name, 'index.ts')),
);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Optional native/peer modules that ali-oss and urllib probe for at run time; not needed on FC.
  external: ['proxy-agent', 'electron'],
};

const toolEntries = [
  ['cli', 'yike-submit'],
  ['cli', 'yike-backfill'],
  ['cli', 'yike-jobs'],
  ['local', 'start'],
  ['scripts', 'upload'],
  ['bench', 'run'],
].filter(([folder, name]) => existsSync(join(root, folder, `${name}.ts`)));

const started = Date.now();
const results = await Promise.all([
  ...functionNames.map((name) =>
    build({
      ...common,
      entryPoints: [join(root, 'functions', name, 'index.ts')],
      outfile: join(root, 'dist', name, 'index.js'),
      minify: true,
      metafile: true,
    }).then((result) => ({ name: `dist/${name}/index.js`, result })),
  ),
  ...toolEntries.map(([folder, name]) =>
    build({
      ...common,
      entryPoints: [join(root, folder, `${name}.ts`)],
      outfile: join(root, 'dist', folder, `${name}.js`),
    }).then((result) => ({ name: `dist/${folder}/${name}.js`, result })),
  ),
]);

if (!quiet) {
  for (const { name } of results) {
    const size = statSync(join(root, name)).size;
    console.log(`${name.padEnd(32)} ${(size / 1024).toFixed(1)} KiB`);
  }
  console.log(`built ${results.length} bundles in ${Date.now() - started} ms`);
}
for (const { name, result } of results) {
  if (result.metafile) writeFileSync(join(root, name.replace(/index\.js$/, 'meta.json')), JSON.stringify(result.metafile));
}
