import { startWatcherFixture, type WatcherFixture } from '../../bench/watcher';
import { parseConfig } from '../../shared/config';
import { createIceClient } from '../../shared/ice/client';
import { createOssRecordStore } from '../../shared/idempotency/store';
import { createLogger } from '../../shared/logger';
import { createOssClient } from '../../shared/oss/client';
import { cursorKey, runWatcher } from '../../shared/lifecycle/watcher';
import { LOCAL_CREDENTIALS } from '../helpers/local-cloud';

const BUCKET = 'yike-uploads';

describe('the job watcher at scale', () => {
  let fixture: WatcherFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('settles 2,500 in-flight jobs in one run inside a 60 s function with at most 250 BatchGetYikeAIAppJob calls', async () => {
    // Arrange: the webhook channel only (result objects are covered in job-lifecycle.test.ts), to keep this fast.
    fixture = await startWatcherFixture(2_500, { JOB_RESULT_OBJECTS: 'false' });

    // Act
    const { summary, iceCalls, ms } = await fixture.runWatcher(60);

    // Assert
    expect(summary).toMatchObject({ inflight: 2_500, settled: 2_500, delivered: 2_500, stoppedEarly: false, iceErrors: 0, jobErrors: 0 });
    expect(iceCalls).toBeLessThanOrEqual(250);
    expect(fixture.ice.calls().every((call) => call.action === 'BatchGetYikeAIAppJob' && call.status === 200)).toBe(true);
    expect(fixture.webhookDeliveries()).toBe(2_500);
    expect(fixture.oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/inflight/'))).toEqual([]);
    expect(ms).toBeLessThan(60_000);
  }, 120_000);

  it('stops when its time is nearly up, saves where it stopped, and the next run starts there', async () => {
    // Arrange
    fixture = await startWatcherFixture(60);
    const config = parseConfig({ ...fixture.env, JOB_RESULT_OBJECTS: 'false' });
    const credentials = () => ({ ...LOCAL_CREDENTIALS });
    const recordStore = () => createOssRecordStore(createOssClient(config.oss, credentials(), BUCKET));
    const deps = {
      config,
      ice: createIceClient({ config: config.ice, credentials }),
      recordStore,
      logger: createLogger({ level: 'error', sink: () => undefined }),
      reserveMs: 1_000,
    };
    let budgetChecks = 0;
    // The first checks are the chunk starts (up to ICE_CONCURRENCY at once): two fit in the budget, the third does
    // not (and once one chunk is skipped the rest are, without asking). Later checks, before notifying the started
    // chunks' jobs, find time left, so those 20 jobs settle.
    const first = await runWatcher([BUCKET], { ...deps, remainingTimeMs: () => (++budgetChecks <= 2 || budgetChecks > 3 ? 60_000 : 0) });
    const cursor = await recordStore().get<{ after: string }>(cursorKey(config.records.prefix));

    // Act
    const second = await runWatcher([BUCKET], { ...deps, remainingTimeMs: () => 60_000 });

    // Assert
    expect(first).toMatchObject({ inflight: 60, settled: 20, stoppedEarly: true, iceCalls: 2 });
    expect(cursor).toMatchObject({ after: `bench${String(19).padStart(27, '0')}` });
    expect(second).toMatchObject({ inflight: 40, settled: 40, stoppedEarly: false, iceCalls: 4 });
    expect(await recordStore().get(cursorKey(config.records.prefix))).toBeUndefined();
  });
});
