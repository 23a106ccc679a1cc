import { simulateLag, type LagDesign, type LagFigures } from '../lag';
import { cpusOf, memorySizesMb } from '../lib/s-yaml';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

/** Issue 19: p95 from ICE's finish to the webhook's 2xx at most 15 s (about 60 s with one ICE read per tick). */
const MAX_P95_LAG_S = 15;
/** Issue 27: delayed invocations cost at most this share of sleeping rounds' GB-s a day. */
const MAX_SHARE_OF_SLEEPING = 1 / 20;
/** The fallback is "no worse than today": within this share of sleeping rounds' lag and GB-s (the real compute time varies). */
const FALLBACK_SLACK = 1.05;
const JOBS = 300;
const SPAN_MINUTES = 60;
/** Local jobs run this long; ICE documents no duration for Yike app jobs. */
const JOB_SECONDS = 180;
/** CNY per CU, tier 1 list price (docs/performance.md#what-a-deployment-costs). */
const CNY_PER_CU = 0.00011;

const LABEL: Record<LagDesign, string> = {
  tick: 'one round per tick',
  sleeping: '10 s sleeping rounds (before)',
  delayed: '10 s rounds as delayed invocations (now)',
  'delayed-ignored': 'delayed invocations, the delay ignored (fallback)',
};

/**
 * Notification lag and the watcher's cost, design by design (bench/lag.ts): the same simulated hour of 300 jobs with
 * one round per tick, 10 s rounds slept within a run (before), 10 s rounds as delayed invocations of itself (now), and
 * the same on an FC that ignores the delay; p50/p95 lag, ICE calls per finished job, the watcher's GB-s, CU and
 * invocations a day.
 */
export const lag: BenchModule = {
  name: 'lag',
  async run({ root, progress }) {
    const memoryMb = memorySizesMb(root)['job-watcher'];
    const cpu = cpusOf(root)['job-watcher'];
    if (!memoryMb || !cpu) throw new Error('s.yaml gives job-watcher no memorySize or cpu');
    const figures = {} as Record<LagDesign, LagFigures>;
    for (const design of Object.keys(LABEL) as LagDesign[]) {
      progress(`lag: ${JOBS} jobs of ${JOB_SECONDS} s over a simulated hour, ${LABEL[design]}`);
      figures[design] = await simulateLag({ design, jobs: JOBS, spanMinutes: SPAN_MINUTES, jobSeconds: JOB_SECONDS, memoryMb, cpu });
    }
    const sleeping = figures.sleeping;
    const rows: BenchRow[] = [];
    for (const design of Object.keys(LABEL) as LagDesign[]) {
      const f = figures[design];
      const label = LABEL[design];
      const lagFigure = `notification lag p95, ICE's finish to the webhook's 2xx, ${label} (p50 ${(f.p50Ms / 1000).toFixed(1)} s, max ${(f.maxMs / 1000).toFixed(1)} s)`;
      const gbFigure = `job-watcher GB-s per day at ${memoryMb} MB, ${label} (jobs in flight most of the time; ${Math.round(f.invocationsPerDay)} invocations a day)`;
      const p95 = f.p95Ms / 1000;
      rows.push(
        design === 'delayed'
          ? atMost(lagFigure, p95, MAX_P95_LAG_S, 's')
          : design === 'delayed-ignored'
            ? atMost(`${lagFigure}, against sleeping rounds`, p95, round1((sleeping.p95Ms / 1000) * FALLBACK_SLACK), 's')
            : info(lagFigure, `${p95.toFixed(1)} s`, p95, 's'),
        info(`job-watcher ICE calls per finished job, ${label} (BatchGetYikeAIAppJob, 10 jobs a call)`, f.iceCallsPerJob.toFixed(2), f.iceCallsPerJob),
        info(
          `job-watcher OSS requests per finished job, ${label} (lists, reads, writes, round markers, copies)`,
          f.ossRequestsPerJob.toFixed(1),
          f.ossRequestsPerJob,
        ),
        design === 'delayed'
          ? atMost(`${gbFigure}, against 1/20 of sleeping rounds`, f.gbSecondsPerDay, Math.round(sleeping.gbSecondsPerDay * MAX_SHARE_OF_SLEEPING), 'GB-s', 0)
          : design === 'delayed-ignored'
            ? atMost(`${gbFigure}, against sleeping rounds`, f.gbSecondsPerDay, Math.round(sleeping.gbSecondsPerDay * FALLBACK_SLACK), 'GB-s', 0)
            : info(gbFigure, `${f.gbSecondsPerDay.toFixed(0)} GB-s`, f.gbSecondsPerDay, 'GB-s'),
        info(
          `job-watcher CU per day at ${cpu} vCPU, ${label} (${(f.cuPerDay * CNY_PER_CU * 30).toFixed(2)} CNY a month before FC's hourly minimum)`,
          `${f.cuPerDay.toFixed(0)} CU`,
          f.cuPerDay,
          'CU',
        ),
        info(
          `job-watcher GB-s per day with nothing in flight, ${label} (every run ends at once; ${f.idleCuPerDay.toFixed(0)} CU, ${Math.round(f.idleOssRequestsPerDay)} OSS requests)`,
          `${f.idleGbSecondsPerDay.toFixed(1)} GB-s`,
          f.idleGbSecondsPerDay,
          'GB-s',
        ),
      );
    }
    return rows;
  },
};

const round1 = (value: number) => Math.round(value * 10) / 10;
