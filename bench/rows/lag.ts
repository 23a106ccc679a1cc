import { simulateLag, type LagFigures } from '../lag';
import { memorySizesMb } from '../lib/s-yaml';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

/** Issue 19: p95 from ICE's finish to the webhook's 2xx at most 15 s (about 60 s with one ICE read per tick). */
const MAX_P95_LAG_S = 15;
const JOBS = 300;
const SPAN_MINUTES = 60;
/** Local jobs run this long; ICE documents no duration for Yike app jobs. */
const JOB_SECONDS = 180;

/**
 * Notification lag before and after rounds (bench/lag.ts): the same simulated hour of 300 jobs, once with one round per
 * run (60 s rounds, what one BatchGetYikeAIAppJob per minute-tick did before) and once with the default 10 s
 * rounds, with the ICE calls per finished job and the watcher's GB-seconds per day beside each.
 */
export const lag: BenchModule = {
  name: 'lag',
  async run({ root, progress }) {
    const memoryMb = memorySizesMb(root)['job-watcher'];
    if (!memoryMb) throw new Error('s.yaml gives job-watcher no memorySize');
    progress(`lag: ${JOBS} jobs of ${JOB_SECONDS} s over a simulated hour, one round per tick, then 10 s rounds`);
    const before = await simulateLag({ roundSeconds: 60, jobs: JOBS, spanMinutes: SPAN_MINUTES, jobSeconds: JOB_SECONDS, memoryMb });
    const after = await simulateLag({ roundSeconds: 10, jobs: JOBS, spanMinutes: SPAN_MINUTES, jobSeconds: JOB_SECONDS, memoryMb });
    const label = (figures: LagFigures) => (figures.roundSeconds >= 60 ? 'one round per tick (before)' : `${figures.roundSeconds} s rounds`);
    const rows: BenchRow[] = [];
    for (const figures of [before, after]) {
      const p95 = figures.p95Ms / 1000;
      const lagRow =
        figures === after
          ? atMost(
              `notification lag p95, ICE's finish to the webhook's 2xx, ${label(figures)} (p50 ${(figures.p50Ms / 1000).toFixed(1)} s, max ${(figures.maxMs / 1000).toFixed(1)} s)`,
              p95,
              MAX_P95_LAG_S,
              's',
            )
          : info(
              `notification lag p95, ICE's finish to the webhook's 2xx, ${label(figures)} (p50 ${(figures.p50Ms / 1000).toFixed(1)} s, max ${(figures.maxMs / 1000).toFixed(1)} s)`,
              `${p95.toFixed(1)} s`,
              p95,
              's',
            );
      rows.push(
        lagRow,
        info(
          `job-watcher ICE calls per finished job, ${label(figures)} (BatchGetYikeAIAppJob, 10 jobs a call)`,
          figures.iceCallsPerJob.toFixed(2),
          figures.iceCallsPerJob,
        ),
        info(
          `job-watcher GB-s per day at memorySize ${memoryMb} MB, ${label(figures)} (jobs in flight most of the time; ${figures.runs} runs)`,
          `${figures.gbSecondsPerDay.toFixed(0)} GB-s`,
          figures.gbSecondsPerDay,
          'GB-s',
        ),
        info(
          `job-watcher GB-s per day with nothing in flight, ${label(figures)} (every run ends at once)`,
          `${figures.idleGbSecondsPerDay.toFixed(1)} GB-s`,
          figures.idleGbSecondsPerDay,
          'GB-s',
        ),
      );
    }
    return rows;
  },
};
