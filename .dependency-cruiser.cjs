/**
 * The layer rule (docs/architecture.md): imports go down only, and nothing imports in a circle.
 *   functions/, cli/        entry points: handlers and command-line tools
 *   shared/triggers/        platform events in (event parsing, HTTP routes, the page)
 *   shared/composition/     the composition root: the only place that knows both the domain and the adapters
 *   shared/domain/          what the product decides; it declares the ports it needs (shared/domain/ports.ts)
 *   shared/adapters/        ICE, OSS, FC and webhook clients; they satisfy the ports without importing them
 *   shared/runtime/         config, logger, errors, retry, concurrency, zod
 * Type-only imports count (tsPreCompilationDeps), so a type cannot point up either.
 */
const LAYERS = {
  entry: '^(functions|cli)/',
  triggers: '^shared/triggers/',
  composition: '^shared/composition/',
  domain: '^shared/domain/',
  adapters: '^shared/adapters/',
  runtime: '^shared/runtime/',
};
const TOOLING = '^(local|bench|scripts|test)/';
/** The page's script: browser code (DOM types, its own tsconfig) that the build bundles into a string for GET /. */
const PAGE_BROWSER = '^shared/triggers/http/page/browser/';
/** What the page's HTML and its script share: the contract (ids, steps) and the customer page's strings. */
const PAGE_CONTRACT = '^shared/triggers/http/page/(page-contract|strings)\\.ts$';

const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'A circle of imports (type-only ones too) has no layer order.', severity: 'error', from: {}, to: { circular: true } },
    forbid(
      'runtime-is-the-floor',
      'runtime/ imports no other layer.',
      LAYERS.runtime,
      `${LAYERS.adapters}|${LAYERS.domain}|${LAYERS.composition}|${LAYERS.triggers}|${LAYERS.entry}`,
    ),
    forbid(
      'adapters-know-no-domain',
      'Adapters satisfy the domain ports structurally; they never import the domain or anything above it.',
      LAYERS.adapters,
      `${LAYERS.domain}|${LAYERS.composition}|${LAYERS.triggers}|${LAYERS.entry}`,
    ),
    forbid(
      'domain-uses-ports-not-adapters',
      'The domain receives its ports; it never imports an adapter, the composition root or a trigger.',
      LAYERS.domain,
      `${LAYERS.adapters}|${LAYERS.composition}|${LAYERS.triggers}|${LAYERS.entry}`,
    ),
    forbid(
      'composition-below-triggers',
      'The composition root wires the domain and the adapters; triggers call it, not the reverse.',
      LAYERS.composition,
      `${LAYERS.triggers}|${LAYERS.entry}`,
    ),
    forbid('triggers-through-composition', 'Triggers reach adapters only through the composition root.', LAYERS.triggers, `${LAYERS.adapters}|${LAYERS.entry}`),
    forbid('handlers-through-composition', 'A handler translates its event: adapters come from the composition root.', '^functions/', LAYERS.adapters),
    forbid('product-code-ignores-tooling', 'Shipped code never imports the local cloud, the bench, scripts or tests.', '^(shared|functions|cli)/', TOOLING),
    {
      name: 'browser-code-stays-in-the-browser',
      comment: "The page's script imports only its own modules, the page's contract and its strings: no Node module, package or server code.",
      severity: 'error',
      from: { path: PAGE_BROWSER },
      to: { pathNot: `${PAGE_BROWSER}|${PAGE_CONTRACT}` },
    },
    {
      name: 'browser-code-is-bundled-not-imported',
      comment: "Server code gets the page's script as a string from the build (page/page-script.d.ts), never by importing it.",
      severity: 'error',
      from: { pathNot: PAGE_BROWSER },
      to: { path: PAGE_BROWSER },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves (a typo or a deleted file).',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'] },
  },
};
