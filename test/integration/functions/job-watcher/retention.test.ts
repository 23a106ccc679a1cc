/**
 * RETENTION_DAYS: the watcher erases, on its tick, the jobs submitted longer ago (uploads, copies, result objects and
 * records, as DELETE /jobs/{jobId} does), at most 20 a tick, and keeps the younger ones.
 */
import { createOssRecordStore } from '../../../../shared/adapters/oss/record-store';
import { createOssClient } from '../../../../shared/adapters/oss/client';
import { createJobRecordStore, newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import type { FunctionDoctorReport } from '../../../../shared/domain/doctor/report';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { fcContext, LOCAL_CREDENTIALS, testConfig, TINY_PNG } from '../../../helpers/local-cloud';
import { BUCKET, startWatcherWorld, type WatcherWorld } from './watcher-world';

const PREFIX = '.yike-jobs/';
const JOB_MS = 60_000;
const DAY_MS = 24 * 3_600_000;
const ONE_ROUND = { lifecycle: { roundSeconds: 3_600 } };

describe('RETENTION_DAYS erases old jobs on the watcher’s tick, in bounded batches', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('erases every job older than the retention, 20 a tick, with its upload and copy, and keeps a younger one', async () => {
    // Arrange: 21 finished uploads, then two days later a job submitted an hour before
    const keys = Array.from({ length: 21 }, (_, index) => `uploads/female/old-${String(index).padStart(2, '0')}.png`);
    const old: string[] = [];
    for (const key of keys) old.push((await world.upload(key)).jobId);
    world.clock.advance(JOB_MS);
    expect(await world.watch({}, 65, { tuning: ONE_ROUND })).toMatchObject({ settled: 21, copied: 21 });
    world.clock.advance(2 * DAY_MS);
    const store = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: world.oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
    const young = newJobRecord({
      jobId: 'young-job',
      appId: 'sys-ao-smith-1',
      source: 'https://img.example/young.jpg',
      entryPoint: 'http',
      now: new Date(world.clock.now() - 3_600_000),
    });
    await createJobRecordStore(store, PREFIX).createRecord({ ...young, status: 'Finished' });

    // Act
    const first = await world.watch({ RETENTION_DAYS: '1' }, 65, { tuning: ONE_ROUND });
    const afterFirst = world.oss.listKeys(BUCKET);
    const second = await world.watch({ RETENTION_DAYS: '1' }, 65, { tuning: ONE_ROUND });
    const afterSecond = world.oss.listKeys(BUCKET);
    const listed = await world.http('GET', '/jobs');

    // Assert: 20, then the last one
    expect([first.erased, second.erased]).toEqual([20, 1]);
    expect(old.filter((jobId) => afterFirst.includes(`${PREFIX}jobs/${jobId}.json`))).toHaveLength(1);
    // Of the old jobs only their tombstones and swept work lists are left: no upload, copy, result object or record.
    const leftOf = (jobId: string, key: string) => afterSecond.filter((name) => name.includes(jobId) || name.includes(key));
    for (const [index, jobId] of old.entries()) {
      expect(leftOf(jobId, keys[index]!)).toEqual([
        `${PREFIX}erased/${jobId}.json`,
        expect.stringMatching(new RegExp(`erasures/\\d{8}T\\d{9}Z-${jobId}\\.json$`)),
      ]);
    }
    expect(afterSecond.filter((name) => name.startsWith('uploads/') || name.startsWith('.yike-results/'))).toEqual([]);
    expect(JSON.parse(listed.text)).toMatchObject({ data: [{ jobId: 'young-job' }], hasMore: false });
  });

  it('erases an upload that made no job (its submit record says REJECTED) with that record', async () => {
    // Arrange: a refused upload as oss-submit leaves it, two days old on the watcher's clock
    const store = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: world.oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
    const key = 'uploads/female/refused.png';
    const put = await world.client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
    const eTag = String((put.res.headers as Record<string, string>).etag).replace(/"/g, '');
    const recordKey = objectRecordKey(PREFIX, { bucket: BUCKET, key, eTag });
    const record = {
      schemaVersion: 1,
      status: 'REJECTED',
      idempotencyKey: recordKey,
      owner: 'o',
      startedAt: new Date().toISOString(),
      context: { bucket: BUCKET, key, eTag },
    };
    await store.put(recordKey, record);
    world.clock.advance(2 * DAY_MS);

    // Act
    const summary = await world.watch({ RETENTION_DAYS: '1' }, 65, { tuning: ONE_ROUND });

    // Assert: both gone, and the walk over the upload records went round to its start again
    expect(summary.erased).toBe(1);
    expect(world.oss.listKeys(BUCKET).filter((name) => name.includes('refused'))).toEqual([]);
    expect(await world.readJson(`${PREFIX}watcher/retention.json`)).toBeUndefined();
  });

  it('is named by the watcher’s doctor: the retention when set, and that jobs are kept until erased when not', async () => {
    // Arrange
    const doctorEvent = Buffer.from(JSON.stringify({ yike: 'doctor', replyBy: new Date(Date.now() + 60_000).toISOString() }));
    const context = fcContext({ function: { name: 'yike-job-watcher', handler: 'index.handler', memory: 256, timeout: 65 } });
    const retentionLine = async (env: NodeJS.ProcessEnv) => {
      const report = (await createWatcherHandler({ env, tuning: world.tuning() })(doctorEvent, context)) as unknown as FunctionDoctorReport;
      return report.checks.find((check) => check.id === 'retention');
    };

    // Act
    const set = await retentionLine(world.env({ RETENTION_DAYS: '30' }));
    const unset = await retentionLine(world.env());

    // Assert
    expect(set).toEqual({
      id: 'retention',
      title: 'jobs older than RETENTION_DAYS are erased',
      status: 'pass',
      required: true,
      detail: 'RETENTION_DAYS=30: each tick erases jobs submitted more than 30 days ago, with their uploads and copies',
    });
    expect(unset).toEqual({
      id: 'retention',
      title: 'jobs older than RETENTION_DAYS are erased',
      status: 'skip',
      required: false,
      detail: 'no RETENTION_DAYS: jobs, uploads and copies are kept until erased (DELETE /jobs/{jobId}, yike-jobs erase)',
    });
  });

  it('erases nothing without RETENTION_DAYS', async () => {
    // Arrange
    const { jobId } = await world.upload('uploads/male/kept.png');
    world.clock.advance(JOB_MS);
    await world.watch({}, 65, { tuning: ONE_ROUND });
    world.clock.advance(400 * DAY_MS);

    // Act
    const summary = await world.watch({}, 65, { tuning: ONE_ROUND });

    // Assert
    expect(summary).toMatchObject({ erased: 0 });
    expect(world.oss.listKeys(BUCKET)).toEqual(expect.arrayContaining([`${PREFIX}jobs/${jobId}.json`, 'uploads/male/kept.png']));
  });
});
