// Stands in for the `debug` package in the function bundles (see scripts/build.mjs). httpx, under openapi-client,
// creates two debug loggers at load; with DEBUG unset (as on FC unless an operator sets it) they are disabled, as
// the real package would make them, without loading it, supports-color and tty (~2-3 ms of every cold start). With
// DEBUG set when the function loads, the real package is loaded from dist/<function>/debug.js and does its usual
// work. (Mind that DEBUG=httpx:* prints request headers, which carry signatures and the security token.)
'use strict';
function disabled(namespace) {
  const log = () => undefined;
  log.enabled = false;
  log.namespace = namespace;
  log.extend = (suffix, delimiter = ':') => disabled(`${namespace}${delimiter}${suffix}`);
  log.destroy = () => false;
  return log;
}
function createDebug(namespace) {
  // The build turns this require into require('./debug.js'); unbundled (tests) it is the real package.
  return process.env.DEBUG ? require('debug')(namespace) : disabled(namespace);
}
createDebug.enabled = (namespace) => (process.env.DEBUG ? require('debug').enabled(namespace) : false);
module.exports = createDebug;
