import { join } from 'node:path';

export type FcHandler = (event: Buffer, context: unknown) => Promise<unknown>;

/** A deployable bundle's handler, loaded in this process (it reads process.env, which run.ts points at the stand-ins). */
export function loadHandler(dist: string, name: string): FcHandler {
  return (require(join(dist, name, 'index.js')) as { handler: FcHandler }).handler;
}
