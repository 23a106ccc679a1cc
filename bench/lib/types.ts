import type { LocalIceServer } from '../../local/ice/server';
import type { LocalOssServer } from '../../local/oss/server';

/** One line of the bench table. `ok` undefined = a figure reported for information, with no target. */
export interface BenchRow {
  figure: string;
  target: string;
  measured: string;
  ok?: boolean;
  /** The raw number behind `measured`, for bench/results.json. */
  value?: number;
  unit?: string;
}

/** What every bench module gets: the stand-ins (in the bench process) and where the bundles are. */
export interface BenchContext {
  root: string;
  dist: string;
  /** The functions built under dist/<name>/index.js. */
  functions: string[];
  ice: LocalIceServer;
  oss: LocalOssServer;
  /** Environment of a function pointed at the stand-ins. */
  env: Record<string, string>;
  /** A unique prefix for keys and idempotency keys, so modules never collide with each other's records. */
  runId: string;
  /** Progress on stderr (the table goes to stdout). */
  progress(message: string): void;
}

/** A group of rows. Add yours to bench/rows/index.ts. */
export interface BenchModule {
  name: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

export function atMost(figure: string, value: number, limit: number, unit: string, digits = 1): BenchRow {
  return { figure, target: `<= ${limit} ${unit}`.trim(), measured: `${value.toFixed(digits)} ${unit}`.trim(), ok: value <= limit, value, unit };
}

export function atLeast(figure: string, value: number, limit: number, unit: string, digits = 0): BenchRow {
  return { figure, target: `>= ${limit} ${unit}`.trim(), measured: `${value.toFixed(digits)} ${unit}`.trim(), ok: value >= limit, value, unit };
}

export function info(figure: string, measured: string, value?: number, unit?: string): BenchRow {
  return { figure, target: '-', measured, value, unit };
}
