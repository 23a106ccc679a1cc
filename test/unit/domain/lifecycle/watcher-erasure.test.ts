import { eraseJob } from '../../../../shared/domain/lifecycle/erasure';
import { createJobRecordStore, newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { runWatcher } from '../../../../shared/domain/lifecycle/watcher';
import type { IceJob } from '../../../../shared/domain/ports';
import { parseConfig } from '../../../../shared/runtime/config';
import { createLogger } from '../../../../shared/runtime/logger';
import { memoryStore } from '../submissions/submit-world';
import { webhookSecret } from '../../../helpers/webhooks';

const BUCKET = 'yike-uploads';
const PREFIX = '.yike-jobs/';
const NOON = Date.parse('2026-12-02T04:00:00.000Z');

describe('the watcher and an erasure that lands while a run holds the job', () => {
  it('neither notifies nor writes back a job erased between its record read and its notification', async () => {
    // Arrange: a job in flight; ICE's answer (Finished) waits until the test lets it go
    const records = memoryStore();
    const config = parseConfig(
      { ALLOWED_BUCKETS: BUCKET, JOB_RESULTS: 'object', JOB_WEBHOOK_URL: 'https://hooks.example/yike', JOB_WEBHOOK_SECRET: webhookSecret('watcher-erasure') },
      { lifecycle: { roundSeconds: 3_600 } },
    );
    const job = newJobRecord({ jobId: 'job-1', appId: 'sys-ao-smith-1', source: 'https://img.example/a.jpg', entryPoint: 'http', now: new Date(NOON) });
    await createJobRecordStore(records.store, PREFIX).create(job);
    let asked!: () => void;
    const iceAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const finished: IceJob = { requestId: 'r', jobId: 'job-1', status: 'Finished', results: [{ kind: 'video', outputUrl: 'https://ice.example/out.mp4' }] };
    const webhooks: string[] = [];
    const logger = createLogger({ sink: () => undefined });
    const run = runWatcher([BUCKET], {
      config,
      ice: {
        maxJobIdsPerBatchGet: 10,
        async batchGetYikeAIAppJobs() {
          asked();
          await answered;
          return { requestId: 'r', jobs: [finished], unreadable: 0 };
        },
      },
      recordStore: () => records.store,
      sendWebhook: async (delivery) => {
        webhooks.push(delivery.deliveryId);
        return { ok: true, status: 204 };
      },
      logger,
      remainingTimeMs: () => 60_000,
      clock: { now: () => NOON + 60_000, sleep: async () => undefined },
    });

    // Act: the job is erased while the run waits for ICE
    await iceAsked;
    const erased = await eraseJob('job-1', BUCKET, { config, recordStore: () => records.store, logger, now: () => new Date(NOON + 60_000) }, 'test');
    answer();
    const summary = await run;

    // Assert
    expect(erased.status).toBe('erased');
    expect(webhooks).toEqual([]);
    expect(summary).toMatchObject({ settled: 0, delivered: 0 });
    expect(records.keys().filter((key) => key.includes('job-1'))).toEqual([`${PREFIX}erased/job-1.json`, `${PREFIX}erasures/20261202T040100000Z-job-1.json`]);
  });
});

describe("the erasures' second sweep, on the watcher's timer tick only", () => {
  const config = parseConfig({ ALLOWED_BUCKETS: BUCKET });
  const logger = createLogger({ sink: () => undefined });
  const ELEVEN_MINUTES_LATER = NOON + 11 * 60_000;
  const invoked: string[] = [];
  const self = {
    functionName: 'yike-job-watcher',
    invoker: {
      async invokeAsync(functionName: string) {
        invoked.push(functionName);
        return { requestId: 'fc-1' };
      },
    },
  };

  /** A job erased at noon: its work list is due for its second sweep ten minutes later. */
  async function erasedAtNoon() {
    const records = memoryStore();
    const job = newJobRecord({ jobId: 'job-1', appId: 'sys-ao-smith-1', source: 'https://img.example/a.jpg', entryPoint: 'http', now: new Date(NOON) });
    await createJobRecordStore(records.store, PREFIX).create(job);
    await eraseJob('job-1', BUCKET, { config, recordStore: () => records.store, logger, now: () => new Date(NOON) }, 'test');
    return records;
  }

  const watch = (records: ReturnType<typeof memoryStore>, scheduledFor?: number) =>
    runWatcher([BUCKET], {
      config,
      ice: { maxJobIdsPerBatchGet: 10, batchGetYikeAIAppJobs: async () => ({ requestId: 'r', jobs: [], unreadable: 0 }) },
      recordStore: () => records.store,
      self,
      scheduledFor,
      logger,
      remainingTimeMs: () => 60_000,
      clock: { now: () => ELEVEN_MINUTES_LATER, sleep: async () => undefined },
    });

  it('leaves the work list to the tick in a round the watcher scheduled itself', async () => {
    // Arrange
    const records = await erasedAtNoon();

    // Act
    const summary = await watch(records, ELEVEN_MINUTES_LATER);

    // Assert
    expect(summary.reswept).toBe(0);
    expect(records.keys().filter((key) => key.includes('job-1'))).toEqual([`${PREFIX}erased/job-1.json`, `${PREFIX}erasures/20261202T040000000Z-job-1.json`]);
  });

  it('sweeps it on a tick that leaves the polling to a round due within seconds', async () => {
    // Arrange: a round the watcher scheduled, due 5 s after the tick
    const records = await erasedAtNoon();
    await records.store.createIfAbsent(`${PREFIX}watcher/rounds/${new Date(ELEVEN_MINUTES_LATER + 5_000).toISOString()}`, {});

    // Act
    const summary = await watch(records);

    // Assert
    expect(summary).toMatchObject({ rounds: 0, reswept: 1, nextRound: { outcome: 'pending' } });
    expect(records.keys().filter((key) => key.includes('job-1'))).toEqual([`${PREFIX}erased/job-1.json`]);
    expect(invoked).toEqual([]);
  });
});
