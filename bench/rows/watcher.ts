import { watcherBench, watcherCapacity } from '../watcher';
import { atLeast, atMost, info, type BenchModule } from '../lib/types';

/** Issue 8's capacity target: a 60 s run settles a backlog of 2,500 (the scale test checks the behaviour, not the time). */
const CAPACITY_JOBS = 2_500;

/**
 * The job watcher per 1,000 in-flight jobs (issue 8): one run settling 2,000 jobs ICE reports Finished, with output
 * copies, result objects and a webhook on, over TLS (bench/watcher.ts runs its own stand-ins, so its counts are the
 * watcher's alone); the TLS handshakes of a round over 1,000 running jobs, before and after keep-alive on reads; and
 * how many of 2,500 in-flight jobs one run of a 60 s function settles on this machine.
 */
export const watcher: BenchModule = {
  name: 'watcher',
  async run({ progress }) {
    progress('watcher: one run over 2,000 in-flight jobs');
    const figures = await watcherBench({ jobs: 2_000 });
    progress('watcher: one 60 s run over 2,500 in-flight jobs');
    const capacity = await watcherCapacity({ jobs: CAPACITY_JOBS, timeoutSeconds: 60 });
    return [
      ...figures.map((figure) =>
        figure.target === undefined
          ? info(figure.figure, `${figure.measured} ${figure.unit}`.trim(), figure.measured, figure.unit)
          : atMost(figure.figure, figure.measured, figure.target, figure.unit, 0),
      ),
      atLeast(
        `job-watcher jobs settled by one run of a 60 s function over ${CAPACITY_JOBS.toLocaleString('en')} in flight (webhook only; took ${(capacity.ms / 1000).toFixed(1)} s)`,
        capacity.settled,
        CAPACITY_JOBS,
        'jobs',
      ),
    ];
  },
};
