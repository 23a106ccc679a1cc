/**
 * Finds paths in the repository's files that point outside it: what a fresh clone does not have. Three kinds:
 * - an absolute path of a development machine (`/work/…`, `/home/<user>/…`, `/Users/…`, `/root/…`, `/mnt/…`, `C:\Users\…`);
 * - a relative path (`../…`) that, from its file's folder, climbs out of the repository or names nothing in it;
 * - a path under `shared/` that names no folder or file of the repository's own `shared/` (a folder of that name
 *   beside a clone, such as a team's notes, is not part of the repository).
 * Only text files are read; URLs are not paths (a path inside a URL is preceded by its host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface OutsidePath {
  file: string;
  line: number;
  path: string;
  reason: string;
}

/** Per file, the relative paths it may write that name nothing (a test's own made-up paths), each with its reason. */
export type AllowedPaths = Readonly<Record<string, readonly string[]>>;

const MACHINE_PATH = /(?<![\w.:/~@-])(?:\/(?:work|home|Users|root|mnt)\/[\w.@-]+|[A-Za-z]:\\(?:Users|work)\\)/g;
const RELATIVE_PATH = /(?<![\w.@/-])(?:\.\.\/)+[\w.@-]+(?:\/[\w.@-]+)*/g;
const SHARED_PATH = /(?<![\w.@/-])shared\/[\w.@-]+/g;
/** How a module specifier or a link may leave out its file's ending. */
const IMPLIED_ENDINGS = ['', '.ts', '.js', '.json', '.mjs', '.cjs', '/index.ts', '/index.js'];

export function findOutsidePaths(root: string, files: readonly string[], allowed: AllowedPaths = {}): OutsidePath[] {
  const found: OutsidePath[] = [];
  const exists = (path: string) => IMPLIED_ENDINGS.some((ending) => existsSync(path + ending));
  for (const file of files) {
    const text = readText(join(root, file));
    if (text === undefined) continue;
    text.split('\n').forEach((content, index) => {
      const report = (path: string, reason: string) => found.push({ file, line: index + 1, path, reason });
      for (const [path] of content.matchAll(MACHINE_PATH)) report(path, 'an absolute path of a development machine');
      for (const [match] of content.matchAll(RELATIVE_PATH)) {
        const path = withoutFullStop(match);
        if ((allowed[file] ?? []).includes(path)) continue;
        const target = resolve(root, dirname(file), path);
        if (target !== root && !target.startsWith(root + sep)) report(path, 'climbs out of the repository');
        else if (!exists(target)) report(path, `names nothing in the repository (${relative(root, target)})`);
      }
      for (const [match] of content.matchAll(SHARED_PATH)) {
        const path = withoutFullStop(match);
        if (!exists(join(root, path))) report(path, 'names nothing in the repository (shared/ is ours)');
      }
    });
  }
  return found;
}

/** A path that ends a sentence: its full stop is not part of it. */
function withoutFullStop(path: string): string {
  return path.replace(/(?<=[^.])\.+$/, '');
}

/** The file's text, or undefined for a binary file (a NUL byte) or one that is gone. */
function readText(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}
