import { createHandler as createRenewalHandler } from '../../functions/budget-renewal/index';
import type { DeferredEntry } from '../../shared/domain/budget/deferred';
import type { IdempotencyRecord } from '../../shared/domain/idempotency/idempotent';
import type { SubmissionResult } from '../../shared/domain/submissions/submissions';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { BUCKET, clockAt, DAY_ONE, DAY_ONE_RESET, startBudgetCloud, type BudgetCloud } from '../helpers/budget-cloud';
import { asFcPayload, loadEvent } from '../helpers/fixtures';
import { startEventInstances, startHttpInstances } from '../helpers/instances';
import { fcContext } from '../helpers/local-cloud';
import { reportFigures } from '../helpers/reliability';

/**
 * The races: 20 FC instances, each a process of its own, race 200 items against a budget of 50. Exact by
 * construction: nothing is timed, every instance takes its 10 items one after another as FC hands them, and the
 * counts are read from ICE's own job list and the records afterwards.
 */
const INSTANCES = 20;
const ITEMS = 200;
const BUDGET = 50;
/** 20 processes on a loaded 2-core machine answer slowly: no client gives up on a call that would have succeeded. */
const PATIENT: TuningOverrides = { ice: { readTimeoutMs: 60_000, connectTimeoutMs: 30_000 }, oss: { timeoutMs: 60_000 } };

describe(`${INSTANCES} instances (processes) racing ${ITEMS} items against JOB_BUDGET_PER_DAY=${BUDGET}`, () => {
  let cloud: BudgetCloud;

  beforeAll(async () => {
    cloud = await startBudgetCloud('budget-race-');
  });
  afterAll(() => cloud.close());

  const imageOf = (job: { appParams: Record<string, unknown> }) => new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1);

  /** OSS requests under a prefix, by method and answer. */
  function requestFigures(prefix: string, from: number) {
    const requests = cloud.oss.requests().slice(from);
    const under = requests.filter((request) => request.key?.startsWith(prefix));
    const count = (predicate: (request: (typeof requests)[number]) => boolean) => under.filter(predicate).length;
    return {
      slotPuts: count((r) => r.method === 'PUT' && /\/slots\/\d+$/.test(r.key!)),
      slotConflicts: count((r) => r.method === 'PUT' && /\/slots\/\d+$/.test(r.key!) && r.status === 409),
      hintReads: count((r) => r.method === 'GET' && r.key!.endsWith('/hint.json')),
      hintWrites: count((r) => r.method === 'PUT' && r.key!.endsWith('/hint.json')),
      // Listings name no key (they are bucket requests with a prefix): every one of the run's.
      listings: requests.filter((r) => r.method === 'GET' && r.key === undefined).length,
    };
  }

  it('uploads: exactly 50 submitted and 150 deferred, 0 lost, 0 duplicates; on the next day the 50 oldest deferred are submitted, oldest first', async () => {
    // Arrange: 200 uploads in the bucket, their OSS trigger events, and 20 instances of oss-submit
    const env = cloud.env({ JOB_BUDGET_PER_DAY: String(BUDGET), LOG_LEVEL: 'error' });
    const keys = Array.from({ length: ITEMS }, (_, i) => `uploads/${i % 2 ? 'male' : 'female'}/race-${String(i).padStart(3, '0')}.png`);
    const events: Buffer[] = [];
    for (const key of keys) events.push(await cloud.upload(key));
    const instances = await startEventInstances(INSTANCES, 'oss-submit', env, { at: DAY_ONE }, PATIENT);
    const before = cloud.oss.requests().length;

    // Act: every instance gets its 10 events at once, and takes them one at a time
    const startedAt = Date.now();
    const answers = await Promise.all(events.map((event, i) => instances.invoke(i % INSTANCES, event)));
    const elapsedMs = Date.now() - startedAt;
    await instances.close();
    const race = requestFigures('.yike-jobs/budget/', before);

    // Assert
    const results = answers.map((answer) => answer.result as SubmissionResult);
    const jobs = cloud.ice.jobs();
    const jobsByKey = new Map<string, number>();
    for (const job of jobs) jobsByKey.set(imageOf(job), (jobsByKey.get(imageOf(job)) ?? 0) + 1);
    const records = await Promise.all(
      keys.map(async (key, i) => {
        const eTag = JSON.parse(events[i]!.toString()).events[0].oss.object.eTag as string;
        return (await cloud.readJson<IdempotencyRecord>(`.yike-jobs/objects/${BUCKET}/${key}@${eTag}.json`))!;
      }),
    );
    const entryKeys = cloud.keysUnder('.yike-jobs/deferred/');
    const entries = (await Promise.all(entryKeys.map((key) => cloud.readJson<DeferredEntry>(key)))).map((entry) => entry!);
    const deferredKeys = new Set(entries.map((entry) => entry.source.replace(`oss://${BUCKET}/`, '')));
    const lost = keys.filter((key) => !jobsByKey.has(key) && !deferredKeys.has(key));
    const both = keys.filter((key) => jobsByKey.has(key) && deferredKeys.has(key));
    const figures = {
      instances: INSTANCES,
      uploads: ITEMS,
      budget: BUDGET,
      submitted: jobs.length,
      deferred: entries.length,
      lost: lost.length,
      duplicates: [...jobsByKey.values()].filter((count) => count > 1).length,
      failedInvocations: answers.filter((answer) => answer.error).length,
      ...race,
      slotPutsPerSubmit: Math.round((race.slotPuts / jobs.length) * 100) / 100,
      elapsedMs,
    };

    expect(answers.filter((answer) => answer.error)).toEqual([]);
    expect(results.reduce((sum, result) => sum + result.submitted.length, 0)).toBe(BUDGET);
    expect(results.reduce((sum, result) => sum + (result.deferred?.length ?? 0), 0)).toBe(ITEMS - BUDGET);
    expect(jobs).toHaveLength(BUDGET);
    expect([...jobsByKey.values()].every((count) => count === 1)).toBe(true);
    expect(entries).toHaveLength(ITEMS - BUDGET);
    expect(lost).toEqual([]);
    expect(both).toEqual([]);
    expect(records.filter((record) => record.status === 'COMPLETED')).toHaveLength(BUDGET);
    expect(records.filter((record) => record.status === 'DEFERRED')).toHaveLength(ITEMS - BUDGET);
    expect(cloud.keysUnder('.yike-jobs/budget/2026-12-02/slots/')).toEqual(
      Array.from({ length: BUDGET }, (_, i) => `.yike-jobs/budget/2026-12-02/slots/${String(i + 1).padStart(8, '0')}`),
    );

    // Act: the clock moves to the next day (just after midnight in Shanghai), and the renewal runs
    const renewal = createRenewalHandler({ env, now: clockAt(new Date(Date.parse(DAY_ONE_RESET) + 30_000).toISOString()) });
    const renewedFrom = cloud.ice.jobs().length;
    const summary = await renewal(asFcPayload(loadEvent('fc3-timer')), fcContext({ function: { name: 'yike-budget-renewal', timeout: 120 } }));

    // Assert: the 50 oldest entries (the line's order) became the day's 50 jobs, in that order; 100 still wait
    const renewed = cloud.ice.jobs().slice(renewedFrom).map(imageOf);
    const oldest = entries.slice(0, BUDGET).map((entry) => entry.source.replace(`oss://${BUCKET}/`, ''));
    reportFigures('budget-race-uploads', {
      ...figures,
      renewedNextDay: renewed.length,
      renewedInLineOrder: renewed.join() === oldest.join(),
      stillDeferred: cloud.keysUnder('.yike-jobs/deferred/').length,
    });
    expect(summary.renewal).toMatchObject({ day: '2026-12-03', waiting: ITEMS - BUDGET, submitted: BUDGET, remaining: 0, opened: true });
    expect(renewed).toEqual(oldest);
    expect(cloud.keysUnder('.yike-jobs/deferred/')).toEqual(entryKeys.slice(BUDGET));
  }, 180_000);

  it('HTTP: exactly 50 × 202 and 150 × 429 BUDGET_EXHAUSTED with Retry-After, and nothing stored for the refused ones', async () => {
    // Arrange: 200 images, 20 instances of http-submit behind their own FC HTTP gateways
    const token = 'race-token-6e2f10';
    const env = cloud.env({ JOB_BUDGET_PER_DAY: String(BUDGET), AUTH_TOKENS: token, LOG_LEVEL: 'error' });
    const keys = Array.from({ length: ITEMS }, (_, i) => `images/race-http-${String(i).padStart(3, '0')}.png`);
    for (const key of keys) await cloud.upload(key);
    // A records prefix of its own: the uploads test's counters and records are not this one's. The instances' clocks stay
    // at noon, so what they answer does not depend on how long the race takes.
    const instances = await startHttpInstances(INSTANCES, 'http-submit', env, { at: DAY_ONE, fixed: true }, { ...PATIENT, records: { prefix: '.race-http/' } });
    const jobsBefore = cloud.ice.jobs().length;
    const before = cloud.oss.requests().length;

    // Act: each instance's 10 requests one after another (FC gives an instance one at a time), all instances at once
    const startedAt = Date.now();
    const answers = await Promise.all(
      instances.urls.map(async (url, instance) => {
        const mine: { status: number; retryAfter: string | null; code?: string }[] = [];
        for (let i = instance; i < ITEMS; i += INSTANCES) {
          const response = await fetch(`${url}/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `race-${i}` },
            body: JSON.stringify({ app: 'female', image: { bucket: BUCKET, key: keys[i] } }),
          });
          const body = (await response.json()) as { error?: { code: string } };
          mine.push({ status: response.status, retryAfter: response.headers.get('retry-after'), code: body.error?.code });
        }
        return mine;
      }),
    ).then((perInstance) => perInstance.flat());
    const elapsedMs = Date.now() - startedAt;
    await instances.close();
    const race = requestFigures('.race-http/budget/', before);

    // Assert
    const accepted = answers.filter((answer) => answer.status === 202);
    const refused = answers.filter((answer) => answer.status === 429);
    const retryAfter = [...new Set(refused.map((answer) => Number(answer.retryAfter)))];
    reportFigures('budget-race-http', {
      instances: INSTANCES,
      requests: ITEMS,
      budget: BUDGET,
      accepted: accepted.length,
      refused: refused.length,
      otherStatuses: answers.length - accepted.length - refused.length,
      iceJobs: cloud.ice.jobs().length - jobsBefore,
      idempotencyRecords: cloud.keysUnder('.race-http/http/').length,
      jobRecords: cloud.keysUnder('.race-http/jobs/').length,
      retryAfterSeconds: retryAfter.join(),
      ...race,
      elapsedMs,
    });
    expect(accepted).toHaveLength(BUDGET);
    expect(refused).toHaveLength(ITEMS - BUDGET);
    expect(refused.every((answer) => answer.code === 'BUDGET_EXHAUSTED')).toBe(true);
    // Noon in Shanghai: exactly 12 hours to the reset.
    expect(retryAfter).toEqual([43_200]);
    expect(cloud.ice.jobs().length - jobsBefore).toBe(BUDGET);
    expect(cloud.keysUnder('.race-http/http/')).toHaveLength(BUDGET);
    expect(cloud.keysUnder('.race-http/jobs/')).toHaveLength(BUDGET);
  }, 180_000);
});
