import { eraseJob } from '../../../../shared/domain/lifecycle/erasure';
import { createJobRecordStore, newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { runWatcher } from '../../../../shared/domain/lifecycle/watcher';
import type { IceJob } from '../../../../shared/domain/ports';
import { parseConfig } from '../../../../shared/runtime/config';
import { createLogger } from '../../../../shared/runtime/logger';
import { memoryStore } from '../submissions/submit-world';

const BUCKET = 'yike-uploads';
const PREFIX = '.yike-jobs/';
const NOON = Date.parse('2026-12-02T04:00:00.000Z');

describe('the watcher and an erasure that lands while a run holds the job', () => {
  it('neither notifies nor writes back a job erased between its record read and its notification', async () => {
    // Arrange: a job in flight; ICE's answer (Finished) waits until the test lets it go
    const records = memoryStore();
    const config = parseConfig(
      { ALLOWED_BUCKETS: BUCKET, JOB_RESULTS: 'object', JOB_WEBHOOK_URL: 'https://hooks.example/yike', JOB_WEBHOOK_SECRET: 'secret-0123456789abcdef' },
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
