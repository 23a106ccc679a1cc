// The page's script (shared/triggers/http/page/browser/main.ts and its imports) bundled and minified for the browser:
// the string GET / inlines and its CSP allows by hash (shared/triggers/http/page/page-script.d.ts). scripts/build.mjs
// builds it into the bundles; test/helpers/page-script.js builds it for jest, which runs page.ts from source.
const { build, buildSync } = require('esbuild');
const { join } = require('node:path');

const PAGE_SCRIPT_ENTRY = join(__dirname, '..', 'shared', 'triggers', 'http', 'page', 'browser', 'main.ts');

/** An IIFE (no globals), for the browsers the page targets (ES2020: async/await, optional chaining). */
const options = {
  entryPoints: [PAGE_SCRIPT_ENTRY],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  charset: 'utf8',
  legalComments: 'none',
  logLevel: 'warning',
};

const scriptOf = (result) => result.outputFiles[0].text.trimEnd();

module.exports = {
  buildPageScript: async () => scriptOf(await build(options)),
  buildPageScriptSync: () => scriptOf(buildSync(options)),
};
