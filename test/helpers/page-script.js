// jest runs page.ts from source: its `./page-script` (shared/triggers/http/page/page-script.d.ts) is the script the
// build makes, made here the same way (scripts/page-script.cjs). jest.config.js maps the import to this file.
const { buildPageScriptSync } = require('../../scripts/page-script.cjs');

module.exports = { PAGE_SCRIPT: buildPageScriptSync() };
