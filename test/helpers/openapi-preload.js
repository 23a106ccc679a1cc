// Loaded with --require into the FC instances the tests fork (instances.ts, local/fc/instance.ts): wraps the handlers
// of dist/http-submit/index.js so each answer to an HTTP request goes to the test process (process.send) before it is
// returned, where openapi-check.ts checks it like those of the functions the tests run in-process.
const Module = require('node:module');

const HTTP_SUBMIT = /[\\/]dist[\\/]http-submit[\\/]index\.js$/;
/** The bundle's exports are getters (esbuild's CommonJS output): each is replaced by an object of wrapped handlers. */
const wrappers = new WeakMap();

function reporting(handler) {
  return async (event, context) => {
    const result = await handler(event, context);
    let http;
    try {
      http = JSON.parse(Buffer.isBuffer(event) ? event.toString('utf8') : String(event)).requestContext?.http;
    } catch {
      http = undefined;
    }
    // A doctor event or other non-HTTP payload is no HTTP answer.
    if (http?.method && http.path && process.send && result && typeof result.statusCode === 'number') {
      const { statusCode, headers, body } = result;
      process.send({ yikeOpenApiAnswer: { method: String(http.method).toUpperCase(), path: http.path, statusCode, headers, body } });
    }
    return result;
  };
}

const load = Module._load;
Module._load = function loadAndWrap(request, parent, isMain) {
  const exports = load.call(this, request, parent, isMain);
  if (!exports || !HTTP_SUBMIT.test(Module._resolveFilename(request, parent, isMain))) return exports;
  if (!wrappers.has(exports)) {
    const { createHandler, handler } = exports;
    wrappers.set(exports, { ...exports, createHandler: (options) => reporting(createHandler(options)), handler: reporting(handler) });
  }
  return wrappers.get(exports);
};
