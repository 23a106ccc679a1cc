import { watcherBench } from '../watcher';
import { atMost, type BenchModule } from '../lib/types';

/**
 * The job watcher per 1,000 in-flight jobs (issue 8): one run settling 2,000 jobs ICE reports Finished, with result
 * objects and a webhook on (bench/watcher.ts runs its own stand-ins, so its counts are the watcher's alone).
 */
export const watcher: BenchModule = {
  name: 'watcher',
  async run({ progress }) {
    progress('watcher: one run over 2,000 in-flight jobs');
    const figures = await watcherBench({ jobs: 2_000 });
    return figures.map((figure) => atMost(figure.figure, figure.measured, figure.target ?? Number.POSITIVE_INFINITY, figure.unit, 0));
  },
};
