// Stands in for iconv-lite in the function bundles (see scripts/build.mjs). urllib, under ali-oss, requires
// iconv-lite only to decode a `text`/`json` response whose charset Node lacks; ali-oss never asks urllib for
// `text` or `json` (it parses XML from Buffers itself), so the 480 KiB of code pages are never used.
'use strict';
function unavailable() {
  throw new Error('iconv-lite is not bundled with this function (scripts/stubs/iconv-lite.cjs)');
}
module.exports = { decode: unavailable, encode: unavailable, encodingExists: () => false };
