import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

const MAX_BUNDLE_KIB = 1024;
/** Packages that must never be parsed at cold start (they load on first use from a file of their own). */
const LAZY_PACKAGES = ['ali-oss', 'urllib', 'xml2js', 'debug'];
/** Dead weight the build removes (scripts/build.mjs): none of it may reach any deployed file. */
const REMOVED = [/node_modules\/iconv-lite\//, /node_modules\/@alicloud\/credentials\//, /node_modules\/zod\/v4\/locales\/(?!en\.js|index\.js)/];
/** zod's classic API: the functions use zod/mini (shared/runtime/zod.ts); scripts/build.mjs refuses it too. */
const CLASSIC_ZOD = /node_modules\/zod\/(index\.c?js$|v3\/|v4\/classic\/|v4\/index\.c?js$)/;

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

function inputsOf(dist: string, name: string, file: string): string[] {
  const metaFile = join(dist, '.meta', name, `${file}.json`);
  if (!existsSync(metaFile)) return [];
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Metafile;
  return Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs));
}

/** Bundle sizes, what loads on first use, and what the build leaves out. */
export const bundles: BenchModule = {
  name: 'bundles',
  run({ dist, functions }) {
    const rows: BenchRow[] = [];
    for (const name of functions) {
      const files = readdirSync(join(dist, name)).filter((file) => file.endsWith('.js'));
      const kib = statSync(join(dist, name, 'index.js')).size / 1024;
      rows.push(atMost(`${name}: dist/${name}/index.js size`, kib, MAX_BUNDLE_KIB, 'KiB', 0));
      for (const file of files.filter((file) => file !== 'index.js')) {
        const size = statSync(join(dist, name, file)).size / 1024;
        rows.push(info(`${name}: dist/${name}/${file}, loaded on first use`, `${size.toFixed(0)} KiB`, size, 'KiB'));
      }
      if (!existsSync(join(dist, '.meta', name, 'index.js.json'))) {
        rows.push(info(`${name}: what index.js contains`, 'no metafile in dist/.meta'));
        continue;
      }
      const atStart = inputsOf(dist, name, 'index.js');
      const eager = LAZY_PACKAGES.filter((pkg) => atStart.some((input) => input.includes(`node_modules/${pkg}/`)));
      rows.push({
        figure: `${name}: lazy packages parsed at start (${LAZY_PACKAGES.join(', ')})`,
        target: 'none',
        measured: eager.join(', ') || 'none',
        ok: eager.length === 0,
      });
      const classicZod = atStart.filter((input) => CLASSIC_ZOD.test(input));
      rows.push({
        figure: `${name}: zod's classic API in index.js (zod/mini only)`,
        target: 'none',
        measured: classicZod.length ? `${classicZod.length} files` : 'none',
        ok: classicZod.length === 0,
      });
      const everything = files.flatMap((file) => inputsOf(dist, name, file));
      const removed = [...new Set(everything.filter((input) => REMOVED.some((pattern) => pattern.test(input))))];
      rows.push({
        figure: `${name}: iconv-lite, @alicloud/credentials and zod's other locales, in any file`,
        target: 'none',
        measured: removed.length ? `${removed.length} files` : 'none',
        ok: removed.length === 0,
      });
    }
    return Promise.resolve(rows);
  },
};
