import { createHandler as createRenewalHandler } from '../../functions/budget-renewal/index';
import { createHandler } from '../../functions/oss-submit/index';
import { createAsyncInvoker, type AsyncInvocationRecord } from '../../local/fc/async';
import type { OssFault } from '../../local/oss/faults';
import type { DeferredEntry } from '../../shared/domain/budget/deferred';
import type { IdempotencyRecord } from '../../shared/domain/idempotency/idempotent';
import { BUCKET, clockAt, DAY_ONE, DAY_ONE_RESET, startBudgetCloud, type BudgetCloud } from '../helpers/budget-cloud';
import { asFcPayload, loadEvent } from '../helpers/fixtures';
import { FAST_RETRIES, fcContext, LOCAL_CREDENTIALS } from '../helpers/local-cloud';
import { limitConcurrency, reportFigures, seededRandom } from '../helpers/reliability';

/**
 * The budget under OSS faults: 30 % of the requests the functions make for the budget (slot claims, their read-backs,
 * hints, listings, releases, the deferred line) fail with 503/500, reset after OSS stored them, or answer after the
 * client gave up (and land later). Each upload must end submitted, deferred (listed), or failed and surfaced (FC's
 * last retry failed: onFailure); and the day must never have more jobs than its budget.
 */
const UPLOADS = Number(process.env.RELIABILITY_UPLOADS ?? 200);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261202);
const BUDGET = 50;
const FAULT_RATE = 0.3;
const CLIENT_TIMEOUT_MS = 250;
const SLOWER_THAN_TIMEOUT_MS = 400;

describe(`${UPLOADS} uploads against JOB_BUDGET_PER_DAY=${BUDGET} with ${FAULT_RATE * 100} % OSS faults on the budget's requests`, () => {
  let cloud: BudgetCloud;

  beforeAll(async () => {
    cloud = await startBudgetCloud('budget-faults-');
  });
  afterAll(() => cloud.close());

  it('never goes over the budget, and every upload ends submitted, deferred or failed and surfaced, before and after the renewal', async () => {
    // Arrange: oss-submit behind FC's async invocation (3 retries), at most 16 instances at once
    const random = seededRandom(SEED);
    const env = cloud.env({ JOB_BUDGET_PER_DAY: String(BUDGET), LOG_LEVEL: 'error' });
    const tuning = { ...FAST_RETRIES, oss: { timeoutMs: CLIENT_TIMEOUT_MS } };
    const handler = limitConcurrency(16, createHandler({ env, tuning, now: clockAt(DAY_ONE), sink: () => undefined }));
    const invoker = createAsyncInvoker({
      handler,
      functionName: 'yike-oss-submit',
      credentials: LOCAL_CREDENTIALS,
      maxAsyncRetryAttempts: 3,
      retryDelayMs: 30,
    });
    const keys = Array.from({ length: UPLOADS }, (_, i) => `uploads/female/faults-${String(i).padStart(3, '0')}.png`);
    const events: Buffer[] = [];
    for (const key of keys) events.push(await cloud.upload(key));
    const faulted = (key: string | undefined) => key !== undefined && /^\.yike-jobs\/(budget|deferred)\//.test(key);
    let budgetRequests = 0;
    const faultKinds: Record<string, number> = { '503': 0, '500': 0, reset: 0, slow: 0 };
    // Exactly 3 of every 10 of those requests, in a seeded shuffled order (how requests interleave is not seeded).
    let deck: boolean[] = [];
    cloud.oss.faults.pickWith((request) => {
      if (!faulted(request.key)) return undefined;
      budgetRequests++;
      if (deck.length === 0)
        deck = shuffle(
          Array.from({ length: 10 }, (_, i) => i < FAULT_RATE * 10),
          random,
        );
      if (!deck.pop()) return undefined;
      const faults: [string, OssFault][] = [
        ['503', { kind: 'fail', status: 503, code: 'SlowDown' }],
        ['500', { kind: 'fail', status: 500, code: 'InternalError' }],
        ['reset', { kind: 'reset' }],
        ['slow', { kind: 'delay', ms: SLOWER_THAN_TIMEOUT_MS }],
      ];
      const [name, fault] = faults[Math.floor(random() * faults.length)]!;
      faultKinds[name]! += 1;
      return fault;
    });

    // ICE refuses 1 submit in 10 (400 InvalidParameter: no job), so claimed slots are given back under the faults too.
    let iceRefusals = 0;
    cloud.ice.faults.pickWith((action) => {
      if (action !== 'SubmitYikeAIAppJob' || random() >= 0.1) return undefined;
      iceRefusals++;
      return { kind: 'fail', status: 400, code: 'InvalidParameter', nonJsonBody: false };
    });

    // Act: every upload's event, then everything FC does about them (retries)
    const keyOf = new Map<string, string>();
    for (const [i, event] of events.entries()) keyOf.set(invoker.invoke(event).requestId, keys[i]!);
    await invoker.idle();
    // Writes held past their clients' timeout still land: once OSS has served every request it received.
    await cloud.oss.idle();
    cloud.oss.faults.pickWith(undefined);
    cloud.ice.faults.pickWith(undefined);
    const dayOne = await classify();
    const dayOneJobs = cloud.ice.jobs().length;

    // Act: the next day's renewal, with the faults gone
    const renewal = createRenewalHandler({ env, now: clockAt(new Date(Date.parse(DAY_ONE_RESET) + 30_000).toISOString()) });
    const summary = await renewal(asFcPayload(loadEvent('fc3-timer')), fcContext({ function: { name: 'yike-budget-renewal', timeout: 120 } }));
    const dayTwo = await classify();

    // Assert
    reportFigures('budget-faults', {
      seed: SEED,
      uploads: UPLOADS,
      budget: BUDGET,
      budgetRequests,
      faultsInjected: faultKinds,
      iceRefusals,
      faultRate: Math.round((Object.values(faultKinds).reduce((a, b) => a + b, 0) / budgetRequests) * 1000) / 1000,
      invocationAttempts: invoker.records().reduce((sum, record) => sum + record.attempts, 0),
      dayOne: dayOne.figures,
      renewal: summary.renewal,
      dayTwo: dayTwo.figures,
      // Slots that count but hold no job: claims whose answer was lost and never read back (the day a little short).
      unusedSlotsDayOne: dayOne.figures.slotsDayOne.claimed - dayOne.figures.slotsDayOne.released - dayOneJobs,
    });
    // Never over the budget: 50 on the first day at most, and at most 50 renewed on the second.
    expect(dayOneJobs).toBeLessThanOrEqual(BUDGET);
    expect(cloud.ice.jobs().length - dayOneJobs).toBeLessThanOrEqual(BUDGET);
    for (const state of [dayOne, dayTwo]) {
      expect(state.figures.duplicates).toBe(0);
      expect(state.lost).toEqual([]);
      expect(state.deferredUnlisted).toEqual([]);
    }
    expect(Object.values(faultKinds).every((count) => count > 0)).toBe(true);
    // Each full deck of 10 held exactly 3 faults; the last, partly dealt deck may have held none yet.
    expect(Object.values(faultKinds).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(Math.floor(budgetRequests / 10) * FAULT_RATE * 10);
    expect(dayOne.figures.deferred).toBeGreaterThan(0);

    /** Each upload's state, from ICE's job list, the records, the line and FC's final invocation records. */
    async function classify() {
      const jobsByKey = new Map<string, number>();
      for (const job of cloud.ice.jobs()) {
        const key = new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1);
        jobsByKey.set(key, (jobsByKey.get(key) ?? 0) + 1);
      }
      const entries = await Promise.all(cloud.keysUnder('.yike-jobs/deferred/').map((key) => cloud.readJson<DeferredEntry>(key)));
      const listed = new Set(entries.map((entry) => entry!.source.replace(`oss://${BUCKET}/`, '')));
      const finals = new Map<string, AsyncInvocationRecord>();
      for (const record of invoker.records()) finals.set(keyOf.get(record.requestId)!, record);
      const surfaced = new Set(keys.filter((key) => finals.get(key)?.status === 'failed'));
      const records = new Map<string, IdempotencyRecord>();
      for (const recordKey of cloud.keysUnder(`.yike-jobs/objects/${BUCKET}/`).filter((key) => key.endsWith('.json'))) {
        const record = await cloud.readJson<IdempotencyRecord>(recordKey);
        if (record) records.set(String(record.context?.key), record);
      }
      const lost = keys.filter((key) => !jobsByKey.has(key) && !listed.has(key) && !surfaced.has(key));
      const deferredUnlisted = keys.filter((key) => records.get(key)?.status === 'DEFERRED' && !listed.has(key) && !surfaced.has(key));
      const slots = (day: string) => {
        const names = cloud.keysUnder(`.yike-jobs/budget/${day}/slots/`);
        return { claimed: names.filter((name) => /\/\d+$/.test(name)).length, released: names.filter((name) => name.endsWith('.released')).length };
      };
      const [one, two] = [slots('2026-12-02'), slots('2026-12-03')];
      return {
        lost,
        deferredUnlisted,
        figures: {
          iceJobs: cloud.ice.jobs().length,
          withJob: keys.filter((key) => jobsByKey.has(key)).length,
          deferred: keys.filter((key) => listed.has(key) && !jobsByKey.has(key)).length,
          surfacedFailures: keys.filter((key) => surfaced.has(key) && !jobsByKey.has(key) && !listed.has(key)).length,
          lost: lost.length,
          duplicates: [...jobsByKey.values()].filter((count) => count > 1).length,
          stuckInProgress: [...records.values()].filter((record) => record.status === 'IN_PROGRESS').length,
          slotsDayOne: one,
          slotsDayTwo: two,
        },
      };
    }
  }, 240_000);
});

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
