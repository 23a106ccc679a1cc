// Stands in for xml2js where @alicloud/tea-xml requires it in the function bundles (see scripts/build.mjs).
// openapi-client requires tea-xml at load, but parses XML only for gateway (SPI) calls with an XML answer, which
// ICE and FC never send: the real xml2js (with sax and xmlbuilder, ~100 KiB, ~10 ms of every cold start) is built
// into dist/<function>/xml2js.js and loaded on first use. Same classes, same code: nothing is reimplemented.
'use strict';
let xml2js;
function load() {
  // The build turns this require into require('./xml2js.js'); unbundled (tests) it is the real package.
  if (!xml2js) xml2js = require('xml2js');
  return xml2js;
}
module.exports = {
  get Parser() {
    return load().Parser;
  },
  get Builder() {
    return load().Builder;
  },
  get parseString() {
    return load().parseString;
  },
  get parseStringPromise() {
    return load().parseStringPromise;
  },
};
