// Bundles every FC function (functions/<name>/index.ts -> dist/<name>/index.js, exporting `handler`, plus the
// files it loads on first use, e.g. dist/<name>/oss.js) and the command-line tools (cli/, local/, scripts/,
// bench/ entry points -> dist/<folder>/<name>.js).
import { build } from 'esbuild';
import { readdirSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pageScript from './page-script.cjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

const functionNames = readdirSync(join(root, 'functions')).filter((name) => existsSync(join(root, 'functions', name, 'index.ts')));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Optional native/peer modules that ali-oss and urllib probe for at run time; not needed on FC.
  // typescript: the docs generator (scripts/config-docs.ts) reads the schema's source with it, from node_modules.
  external: ['proxy-agent', 'electron', 'typescript'],
};

/**
 * Code that only some requests need is not parsed at cold start: a `require('ali-oss')` inside a function body
 * becomes `require('./oss.js')`, a file built next to index.js (FC deploys the whole dist/<name> folder).
 * An `import` of these modules is a build error, because it would load them at start.
 */
const LAZY_MODULES = { 'ali-oss': 'oss.js', xml2js: 'xml2js.js', debug: 'debug.js', standardwebhooks: 'standardwebhooks.js', jose: 'jose.js' };

/**
 * Packages that a dependency requires at load but uses only in some calls: they resolve to a small stand-in
 * (scripts/stubs/*-on-first-use.cjs) that requires the real package on first use, and that require becomes a
 * lazy file as above.
 */
const ON_FIRST_USE = {
  xml2js: join(root, 'scripts', 'stubs', 'xml2js-on-first-use.cjs'),
  debug: join(root, 'scripts', 'stubs', 'debug-on-first-use.cjs'),
};

const PAGE_MODULE = join(root, 'shared', 'triggers', 'http', 'page', 'page.ts');
/**
 * Our own code that only some requests need, built the same way: the doctor (`require('./doctor-run')` in
 * shared/triggers/events/doctor.ts) becomes dist/<name>/doctor.js, parsed only when a doctor request comes; the page
 * (`require('./page/page')` in shared/triggers/http/api.ts, its HTML and script) becomes page.js, parsed on a GET /; the
 * OpenAPI document (`require('./openapi/document')`, the schemas and zod's JSON Schema conversion) becomes openapi.js,
 * parsed on a GET /openapi.json.
 */
const LAZY_LOCAL = {
  doctor: { pattern: /^\.\/doctor-run$/, source: join(root, 'shared', 'triggers', 'events', 'doctor-run.ts'), file: 'doctor.js' },
  page: { pattern: /^\.\/page\/page$/, source: PAGE_MODULE, file: 'page.js' },
  openapi: { pattern: /^\.\/openapi\/document$/, source: join(root, 'shared', 'triggers', 'http', 'openapi', 'document.ts'), file: 'openapi.js' },
};

/**
 * The page's script (shared/triggers/http/page/browser/, bundled for the browser by scripts/page-script.cjs), made
 * once per build: page.ts's `./page-script` (declared in page-script.d.ts) becomes `export const PAGE_SCRIPT = "…"`.
 */
const pageScriptText = pageScript.buildPageScript();
const pageScriptPlugin = {
  name: 'page-script',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\/page-script$/ }, (args) =>
      args.importer === PAGE_MODULE ? { path: 'page-script', namespace: 'page-script' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'page-script' }, async () => ({
      contents: `export const PAGE_SCRIPT = ${JSON.stringify(await pageScriptText)};`,
      loader: 'js',
    }));
  },
};

const lazyModulesPlugin = {
  name: 'lazy-modules',
  setup(pluginBuild) {
    for (const { pattern, file } of Object.values(LAZY_LOCAL)) {
      pluginBuild.onResolve({ filter: pattern }, (args) => {
        if (args.kind !== 'require-call')
          return { errors: [{ text: `${args.path} is loaded on first use: require() it where it is needed (it becomes ./${file})` }] };
        return { path: `./${file}`, external: true };
      });
    }
    const filter = new RegExp(`^(${Object.keys(LAZY_MODULES).join('|')})$`);
    pluginBuild.onResolve({ filter }, (args) => {
      const onFirstUse = ON_FIRST_USE[args.path];
      if (onFirstUse && args.importer !== onFirstUse) return { path: onFirstUse };
      const file = LAZY_MODULES[args.path];
      if (args.kind !== 'require-call') {
        return { errors: [{ text: `${args.path} is loaded on first use: require() it inside the function that needs it (it becomes ./${file})` }] };
      }
      return { path: `./${file}`, external: true };
    });
  },
};

/** Dependencies' dead weight in the function bundles (measured: see docs/performance.md). */
const slimDependenciesPlugin = {
  name: 'slim-dependencies',
  setup(pluginBuild) {
    // 480 KiB of code pages that ali-oss never uses: see scripts/stubs/iconv-lite.cjs.
    pluginBuild.onResolve({ filter: /^iconv-lite$/ }, () => ({ path: join(root, 'scripts', 'stubs', 'iconv-lite.cjs') }));
    // ~165 KiB (the credentials provider chain, xml2js, xmlbuilder, sax, ini) for keys the functions always pass
    // explicitly: see scripts/stubs/alicloud-credentials.cjs.
    pluginBuild.onResolve({ filter: /^@alicloud\/credentials$/ }, () => ({ path: join(root, 'scripts', 'stubs', 'alicloud-credentials.cjs') }));
    // zod's classic API re-exports every locale (~260 KiB) as `z.locales`; we use only its default, English.
    pluginBuild.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * zod's classic API (`zod`, `zod/v4`, `zod/v3`) costs ~20 ms more of module load than `zod/mini`, which every schema
 * a function loads uses (shared/runtime/zod.ts): importing it into a function bundle is a build error. CLI tools may use it.
 */
const CLASSIC_ZOD = /^zod(\/v4|\/v3|\/v4\/classic)?(\/index(\.c?js)?)?$/;
const CLASSIC_ZOD_FILES = /node_modules[\\/]zod[\\/](index\.c?js$|v3[\\/]|v4[\\/]classic[\\/]|v4[\\/]index\.c?js$)/;

const noClassicZodPlugin = {
  name: 'no-classic-zod',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^zod(\/.*)?$/ }, (args) => {
      if (!CLASSIC_ZOD.test(args.path)) return undefined;
      return {
        errors: [{ text: `${args.path}: zod's classic API is not allowed in a function bundle: import { z } from shared/runtime/zod.ts (zod/mini) instead` }],
      };
    });
  },
};

/** The same rule on what the bundle contains, whoever imported it (a dependency, a deep path). */
function assertNoClassicZod(metafile, name) {
  const classic = Object.keys(metafile.inputs).filter((input) => CLASSIC_ZOD_FILES.test(input));
  if (classic.length > 0)
    throw new Error(`dist/${name}/index.js contains zod's classic API (${classic.slice(0, 3).join(', ')}): use zod/mini (shared/runtime/zod.ts)`);
}

const functionBuild = { ...common, minify: true, metafile: true, plugins: [slimDependenciesPlugin, pageScriptPlugin] };

/** The lazy files a bundle requires (its metafile lists them as external imports). */
function lazyFilesOf(metafile, outfile, lazyFiles = new Set(Object.values(LAZY_MODULES))) {
  return [
    ...new Set(metafile.outputs[outfile].imports.filter((entry) => entry.external && lazyFiles.has(entry.path.slice(2))).map((entry) => entry.path.slice(2))),
  ];
}

async function buildFunction(name) {
  const outfile = join(root, 'dist', name, 'index.js');
  const result = await build({
    ...functionBuild,
    entryPoints: [join(root, 'functions', name, 'index.ts')],
    outfile,
    plugins: [lazyModulesPlugin, noClassicZodPlugin, ...functionBuild.plugins],
  });
  assertNoClassicZod(result.metafile, name);
  const built = [{ name: `dist/${name}/index.js`, result }];
  const lazyLocal = new Set(Object.values(LAZY_LOCAL).map(({ file }) => file));
  const packageFiles = new Set(lazyFilesOf(result.metafile, `dist/${name}/index.js`));
  for (const file of lazyFilesOf(result.metafile, `dist/${name}/index.js`, lazyLocal)) {
    const { source } = Object.values(LAZY_LOCAL).find((entry) => entry.file === file);
    const chunk = await build({
      ...functionBuild,
      stdin: { contents: `module.exports = require(${JSON.stringify(source)});`, resolveDir: root, sourcefile: `lazy-${file}` },
      outfile: join(root, 'dist', name, file),
      plugins: [lazyModulesPlugin, noClassicZodPlugin, ...functionBuild.plugins],
    });
    assertNoClassicZod(chunk.metafile, `${name}/${file}`);
    built.push({ name: `dist/${name}/${file}`, result: chunk });
    for (const needed of lazyFilesOf(chunk.metafile, `dist/${name}/${file}`)) packageFiles.add(needed);
  }
  for (const file of packageFiles) {
    const moduleName = Object.keys(LAZY_MODULES).find((key) => LAZY_MODULES[key] === file);
    const chunk = await build({
      ...functionBuild,
      stdin: { contents: `module.exports = require(${JSON.stringify(moduleName)});`, resolveDir: root, sourcefile: `lazy-${file}` },
      outfile: join(root, 'dist', name, file),
    });
    built.push({ name: `dist/${name}/${file}`, result: chunk });
  }
  return built;
}

const toolEntries = [
  ['cli', 'yike-submit'],
  ['cli', 'yike-backfill'],
  ['cli', 'yike-jobs'],
  ['cli', 'yike-doctor'],
  ['cli', 'yike-deploy'],
  ['local', 'start'],
  ['local/fc', 'instance'],
  ['scripts', 'upload'],
  ['scripts', 'config-docs'],
  ['scripts', 'openapi-docs'],
  ['scripts', 'deploy-template'],
  ['scripts', 'local-tls'],
  ['bench', 'run'],
  ['bench', 'child'],
].filter(([folder, name]) => existsSync(join(root, folder, `${name}.ts`)));

const started = Date.now();
const results = (
  await Promise.all([
    ...functionNames.map(buildFunction),
    ...toolEntries.map(([folder, name]) =>
      build({
        ...common,
        entryPoints: [join(root, folder, `${name}.ts`)],
        outfile: join(root, 'dist', folder, `${name}.js`),
        plugins: [pageScriptPlugin],
      }).then((result) => [{ name: `dist/${folder}/${name}.js`, result }]),
    ),
  ])
).flat();

if (!quiet) {
  for (const { name } of results) {
    const size = statSync(join(root, name)).size;
    console.log(`${name.padEnd(32)} ${(size / 1024).toFixed(1)} KiB`);
  }
  console.log(`built ${results.length} bundles in ${Date.now() - started} ms`);
}
for (const { name, result } of results) {
  // Outside dist/<function>/, which is what gets deployed. The bench and the bundle tests read them.
  if (result.metafile) {
    const metaFile = join(root, 'dist', '.meta', `${name.slice('dist/'.length)}.json`);
    mkdirSync(dirname(metaFile), { recursive: true });
    writeFileSync(metaFile, JSON.stringify(result.metafile));
  }
}
