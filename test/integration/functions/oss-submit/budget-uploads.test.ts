import { createHandler as createRenewalHandler } from '../../../../functions/budget-renewal/index';
import { createHandler } from '../../../../functions/oss-submit/index';
import type { SubmissionResult } from '../../../../shared/domain/submissions/submissions';
import type { DeferredEntry } from '../../../../shared/domain/budget/deferred';
import type { IdempotencyRecord } from '../../../../shared/domain/idempotency/idempotent';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { BUCKET, clockAt, DAY_ONE, DAY_ONE_RESET, RECORDS_PREFIX, startBudgetCloud, type BudgetCloud } from '../../../helpers/budget-cloud';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext, logCapture } from '../../../helpers/local-cloud';

/** 00:00:30 in Shanghai on the days after DAY_ONE: just after each reset, inside the renewal's grace. */
const justAfterReset = (days: number) => new Date(Date.parse(DAY_ONE_RESET) + (days - 1) * 86_400_000 + 30_000).toISOString();

describe('uploads over JOB_BUDGET_PER_DAY: deferred, never lost, submitted first when the budget renews', () => {
  let cloud: BudgetCloud;
  const eTags = new Map<string, string>();

  beforeAll(async () => {
    cloud = await startBudgetCloud('budget-uploads-');
  });
  afterAll(() => cloud.close());

  const env = () => cloud.env({ JOB_BUDGET_PER_DAY: '3' });
  const timer = () => asFcPayload(loadEvent('fc3-timer'));
  const recordOf = (key: string) => cloud.readJson<IdempotencyRecord>(objectRecordKey(RECORDS_PREFIX, { bucket: BUCKET, key, eTag: eTags.get(key)! }));
  const jobKeys = () => cloud.ice.jobs().map((job) => new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1));

  async function uploadAll(keys: string[], handler: ReturnType<typeof createHandler>): Promise<SubmissionResult[]> {
    const results: SubmissionResult[] = [];
    for (const key of keys) {
      const event = await cloud.upload(key);
      eTags.set(key, JSON.parse(event.toString()).events[0].oss.object.eTag);
      results.push(await handler(event, fcContext()));
    }
    return results;
  }

  it('submits the day\u2019s 3 jobs, then records the 4th and 5th DEFERRED, lists them oldest first, and succeeds with a warn log', async () => {
    // Arrange
    const logs = logCapture();
    const handler = createHandler({ env: env(), sink: logs.sink, now: clockAt(DAY_ONE) });
    const keys = ['a', 'b', 'c', 'd', 'e'].map((name) => `uploads/female/day1-${name}.png`);

    // Act
    const results = await uploadAll(keys, handler);

    // Assert
    expect(results.map((result) => result.submitted.length)).toEqual([1, 1, 1, 0, 0]);
    expect(results.slice(3)).toEqual(
      keys.slice(3).map((key) => ({
        submitted: [],
        skipped: [],
        failed: [],
        deferred: [{ source: `oss://${BUCKET}/${key}`, code: 'BUDGET_EXHAUSTED', resetsAt: DAY_ONE_RESET }],
      })),
    );
    expect(jobKeys()).toEqual(keys.slice(0, 3));
    for (const key of keys.slice(3)) {
      expect(await recordOf(key)).toMatchObject({
        status: 'DEFERRED',
        error: { code: 'BUDGET_EXHAUSTED', details: { reason: 'budget', day: '2026-12-02', limit: 3, resetsAt: DAY_ONE_RESET } },
      });
    }
    const line = await Promise.all(cloud.keysUnder(`${RECORDS_PREFIX}deferred/`).map((key) => cloud.readJson<DeferredEntry>(key)));
    expect(line.map((entry) => entry!.source)).toEqual(keys.slice(3).map((key) => `oss://${BUCKET}/${key}`));
    expect(line[0]).toMatchObject({ day: '2026-12-02', code: 'BUDGET_EXHAUSTED', item: { kind: 'object', object: { bucket: BUCKET, key: keys[3] } } });
    const warnings = logs.lines().filter((entry) => entry.message === 'item deferred: over the budget, it is submitted when the budget renews');
    expect(warnings.map((entry) => [entry.level, entry.source])).toEqual(keys.slice(3).map((key) => ['warn', `oss://${BUCKET}/${key}`]));
    expect(cloud.keysUnder(`${RECORDS_PREFIX}budget/2026-12-02/slots/`)).toEqual([1, 2, 3].map((n) => `${RECORDS_PREFIX}budget/2026-12-02/slots/0000000${n}`));
  });

  it('submits the deferred uploads when the budget renews, each image checked again, and skips a deleted one with the reason recorded', async () => {
    // Arrange: the 5th upload's image is deleted while it waits
    const [fourth, fifth] = ['uploads/female/day1-d.png', 'uploads/female/day1-e.png'];
    await cloud.remove(fifth);
    const logs = logCapture();
    const renewal = createRenewalHandler({ env: env(), sink: logs.sink, now: clockAt(justAfterReset(1)) });
    const headsBefore = cloud.oss.requests().filter((request) => request.method === 'HEAD').length;

    // Act
    const summary = await renewal(timer(), fcContext());

    // Assert
    expect(summary.renewal).toMatchObject({ day: '2026-12-03', waiting: 2, submitted: 1, skipped: 1, kept: 0, failed: 0, remaining: 2, opened: true });
    expect(jobKeys().at(-1)).toBe(fourth);
    // 5 on day 1 (the precheck comes before the budget's claim), and the renewal's of the 4th; the 5th never got that far.
    expect(cloud.ice.calls().filter((call) => call.action === 'PrecheckYikeAIAppJob')).toHaveLength(6);
    expect(cloud.oss.requests().filter((request) => request.method === 'HEAD').length - headsBefore).toBe(2);
    expect(await recordOf(fourth)).toMatchObject({ status: 'COMPLETED', result: { jobId: cloud.ice.jobs().at(-1)!.jobId } });
    expect(await recordOf(fifth)).toMatchObject({
      status: 'SKIPPED',
      error: { code: 'IMAGE_GONE', message: `oss://${BUCKET}/${fifth} was deleted while it waited for the budget` },
    });
    expect(cloud.keysUnder(`${RECORDS_PREFIX}deferred/`)).toEqual([]);
    expect(cloud.keysUnder(`${RECORDS_PREFIX}budget/2026-12-03/slots/`)).toHaveLength(1);
    expect(logs.lines().filter((line) => line.message === 'deferred item skipped')).toMatchObject([{ level: 'warn', reason: 'image-gone' }]);
  });

  it('holds new work on a renewed day behind the deferred line until the renewal has submitted the older items first', async () => {
    // Arrange: day 2 fills its budget (1 used by the renewal) and defers two more; day 3 begins
    const dayTwo = createHandler({ env: env(), now: clockAt(justAfterReset(1)) });
    const older = ['f', 'g', 'h', 'i'].map((name) => `uploads/male/day2-${name}.png`);
    await uploadAll(older, dayTwo);
    const dayThree = clockAt(justAfterReset(2));
    const newcomer = 'uploads/male/day3-new.png';

    // Act: an upload arrives before the renewal has run, then the renewal runs
    const [early] = await uploadAll([newcomer], createHandler({ env: env(), now: dayThree }));
    const heldBack = await recordOf(newcomer);
    const summary = await createRenewalHandler({ env: env(), now: dayThree })(timer(), fcContext());

    // Assert: the two deferred on day 2 go first, then the newcomer that waited behind them
    expect(early!.deferred).toEqual([{ source: `oss://${BUCKET}/${newcomer}`, code: 'BUDGET_EXHAUSTED', resetsAt: '2026-12-04T16:00:00.000Z' }]);
    expect(heldBack).toMatchObject({ status: 'DEFERRED', error: { code: 'BUDGET_EXHAUSTED', details: { reason: 'renewal-pending', retryAfterSeconds: 60 } } });
    expect(summary.renewal).toMatchObject({ day: '2026-12-04', waiting: 3, submitted: 3, remaining: 0, opened: true });
    expect(jobKeys().slice(-3)).toEqual([older[2], older[3], newcomer]);
  });

  it('costs nothing without a budget: not one request under the budget or the deferred line, and 6 record writes per upload', async () => {
    // Arrange
    const handler = createHandler({ env: cloud.env() });
    const before = cloud.oss.requests().length;

    // Act
    await uploadAll(['uploads/female/no-budget.png'], handler);
    const requests = cloud.oss
      .requests()
      .slice(before)
      .filter((request) => request.key?.startsWith(RECORDS_PREFIX));

    // Assert
    // The claim and its COMPLETED record, then the in-flight marker, the job record and its two index entries (in parallel).
    expect(requests.map((request) => `${request.method} ${request.key!.split('/')[1]}`).sort()).toEqual([
      'PUT index',
      'PUT index',
      'PUT inflight',
      'PUT jobs',
      'PUT objects',
      'PUT objects',
    ]);
    expect(requests.filter((request) => /\/(budget|deferred)\//.test(request.key!))).toEqual([]);
  });
});
