import { config, locales } from 'zod/mini';

/**
 * zod's tree-shakable functional API (`zod/mini`) for every schema a function bundle loads: its classic API costs
 * more module load (docs/performance.md), and scripts/build.mjs refuses it in a function bundle. Import it as
 * `import * as z from './zod'`: esbuild then keeps only the functions used (a named `z` object would keep all of zod).
 * zod/mini sets no locale, so every message would read "Invalid input": English is what the classic API sets, and
 * the messages callers and tests see stay the same. The build keeps only this locale (scripts/build.mjs).
 */
config(locales.en());

export * from 'zod/mini';
