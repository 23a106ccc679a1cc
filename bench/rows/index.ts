import type { BenchModule } from '../lib/types';
import { budget } from './budget';
import { bundles } from './bundles';
import { copyMemory } from './copy-memory';
import { imageModes } from './image-modes';
import { lag } from './lag';
import { memory } from './memory';
import { moduleLoad } from './module-load';
import { uploads } from './uploads';
import { warmHttp } from './warm-http';
import { watcher } from './watcher';

/** The bench's rows, in order. A new figure is a new module here (see bench/lib/types.ts). */
export const BENCH_MODULES: BenchModule[] = [bundles, moduleLoad, warmHttp, uploads, budget, memory, watcher, lag, copyMemory, imageModes];
