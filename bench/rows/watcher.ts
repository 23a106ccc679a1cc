import { watcherBench } from '../watcher';
import { atMost, info, type BenchModule } from '../lib/types';

/**
 * The job watcher per 1,000 in-flight jobs (issue 8): one run settling 2,000 jobs ICE reports Finished, with output
 * copies, result objects and a webhook on, over TLS (bench/watcher.ts runs its own stand-ins, so its counts are the
 * watcher's alone); and the TLS handshakes of a round over 1,000 running jobs, before and after keep-alive on reads.
 */
export const watcher: BenchModule = {
  name: 'watcher',
  async run({ progress }) {
    progress('watcher: one run over 2,000 in-flight jobs');
    const figures = await watcherBench({ jobs: 2_000 });
    return figures.map((figure) =>
      figure.target === undefined
        ? info(figure.figure, `${figure.measured} ${figure.unit}`.trim(), figure.measured, figure.unit)
        : atMost(figure.figure, figure.measured, figure.target, figure.unit, 0),
    );
  },
};
