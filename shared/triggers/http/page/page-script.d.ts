/**
 * The page's script as served: browser/main.ts and what it imports, bundled and minified for the browser by
 * scripts/page-script.cjs. scripts/build.mjs puts this string into the bundles (its page-script plugin); jest, which
 * runs page.ts from source, maps this module to test/helpers/page-script.js, which makes the same string.
 */
export declare const PAGE_SCRIPT: string;
