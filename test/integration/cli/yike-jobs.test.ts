import { join } from 'node:path';
import { createHandler as createOssHandler } from '../../../functions/oss-submit/index';
import { startFcInvokeServer, type AsyncHandler, type LocalFcInvokeServer } from '../../../local/fc/invoke-server';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { ossTriggerEventFor, stripETagQuotes } from '../../../cli/backfill/events';
import type { IdempotencyRecord } from '../../../shared/domain/idempotency/idempotent';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import type { RecordStore } from '../../../shared/domain/ports';
import { createJobRecordStore, newJobRecord, type JobRecordStore } from '../../../shared/domain/lifecycle/job-record';
import { createOssClient, type OssClient } from '../../../shared/adapters/oss/client';
import { objectRecordKey } from '../../../shared/domain/submissions/record-keys';
import { fcContext, jsonLines, LOCAL_CREDENTIALS, logCapture, runCli, tempDir, testConfig, TINY_PNG } from '../../helpers/local-cloud';
import { NEVER_ANSWERS_MS } from '../../helpers/waiting';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-jobs.js');
const BUCKET = 'yike-uploads';
const PREFIX = '.yike-jobs/';
const ACCOUNT_ID = '1234567890123456';
const FUNCTION_NAME = 'yike-oss-submit';
/**
 * The upload function gives up on ICE after this long; an answer that never comes then leaves the outcome unknown.
 * Long enough for every answer that does come, however busy the machine.
 */
const READ_TIMEOUT_MS = 2_000;
/** The upload function's tuning: that read timeout, and fast retries. */
const FUNCTION_TUNING = { ice: { readTimeoutMs: READ_TIMEOUT_MS, retry: { baseDelayMs: 1, maxDelayMs: 2 } } };

describe('npx yike-jobs lists, shows and settles job and submit records', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let fc: LocalFcInvokeServer;
  let dir: ReturnType<typeof tempDir>;
  let client: OssClient;
  let store: RecordStore;
  let jobs: JobRecordStore;
  let logs: ReturnType<typeof logCapture>;
  let uploads = 0;

  function functionEnv(): NodeJS.ProcessEnv {
    return {
      ICE_ENDPOINT: ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      APP_ROUTES: '{"":"female"}',
      LOG_LEVEL: 'error',
    };
  }

  const cli = (args: string[]) => runCli(BIN, [...args, '--bucket', BUCKET], { ...functionEnv(), FC_ENDPOINT: fc.url, FC_ACCOUNT_ID: ACCOUNT_ID });

  /**
   * An upload whose submit got no clear answer from ICE, made the real way: the OSS function runs on the upload's
   * event while the local ICE holds its answer past the read timeout (the job IS created) or drops the connection
   * (no job).
   */
  async function unsettledUpload(fault: 'delay' | 'drop'): Promise<{ key: string; eTag: string; recordKey: string; event: Buffer }> {
    const key = `uploads/female/unsettled-${++uploads}.png`;
    const put = await client.put(key, TINY_PNG);
    const eTag = stripETagQuotes((put.res.headers as Record<string, string>).etag!);
    const event = ossTriggerEventFor(
      BUCKET,
      { name: key, size: TINY_PNG.length, etag: eTag, lastModified: new Date().toISOString() },
      testConfig({ FC_ACCOUNT_ID: ACCOUNT_ID }),
    );
    ice.faults.delayNext(1, 0); // ICE's precheck answers at once; the fault hits the submit
    if (fault === 'delay') ice.faults.delayNext(1, NEVER_ANSWERS_MS);
    else ice.faults.dropNext(1);
    await expect(createOssHandler({ env: functionEnv(), tuning: FUNCTION_TUNING, sink: logs.sink })(event, fcContext())).rejects.toThrow(
      /ICE_TIMEOUT|ICE_CONNECTION_RESET/,
    );
    const recordKey = objectRecordKey(PREFIX, { bucket: BUCKET, key, eTag });
    expect(await store.get<IdempotencyRecord>(recordKey)).toMatchObject({ status: 'OUTCOME_UNKNOWN' });
    return { key, eTag, recordKey, event };
  }

  beforeAll(async () => {
    dir = tempDir('yike-jobs-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // ICE's precheck (PRECHECK=on by default) reads the uploads from the local OSS.
    ice = await startIceServer({ finishAfterMs: 300, images: { ossUrl: oss.url } });
    fc = await startFcInvokeServer({
      functions: { [FUNCTION_NAME]: createOssHandler({ env: functionEnv(), tuning: FUNCTION_TUNING, sink: () => undefined }) as unknown as AsyncHandler },
      contextCredentials: LOCAL_CREDENTIALS,
      accountId: ACCOUNT_ID,
    });
    client = createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET);
    store = createOssRecordStore(client);
    jobs = createJobRecordStore(store, PREFIX);
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), fc.close()]);
    dir.remove();
  });
  beforeEach(() => {
    logs = logCapture();
  });

  it('lists OUTCOME_UNKNOWN records and settles one with --job-id after ICE confirms the job, so a retry submits nothing', async () => {
    // Arrange: the delayed submit did create a job at ICE
    const unsettled = await unsettledUpload('delay');
    const created = ice.jobs().find((job) => JSON.stringify(job.appParams).includes(unsettled.key))!;

    // Act
    const listed = await cli(['list', '--status', 'OUTCOME_UNKNOWN']);
    const resolved = await cli(['resolve', unsettled.recordKey, '--job-id', created.jobId]);
    const retry = await createOssHandler({ env: functionEnv(), tuning: FUNCTION_TUNING, sink: logs.sink })(unsettled.event, fcContext());

    // Assert
    expect(listed.code).toBe(0);
    expect(jsonLines(listed.stdout)).toContainEqual({
      recordKey: unsettled.recordKey,
      kind: 'upload',
      status: 'OUTCOME_UNKNOWN',
      startedAt: expect.any(String),
      source: `oss://${BUCKET}/${unsettled.key}`,
      error: { code: 'ICE_TIMEOUT', message: expect.any(String) },
    });
    expect(resolved).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(resolved.stdout)).toEqual([
      {
        recordKey: unsettled.recordKey,
        resolved: 'job-id',
        status: 'COMPLETED',
        jobId: created.jobId,
        jobStatus: expect.stringMatching(/^(Created|Queuing|Executing|Finished)$/),
        jobRecordCreated: true,
      },
    ]);
    expect(await store.get(unsettled.recordKey)).toMatchObject({ status: 'COMPLETED', result: { jobId: created.jobId, appId: 'sys-ao-smith-1' } });
    expect(await jobs.get(created.jobId)).toMatchObject({
      jobId: created.jobId,
      entryPoint: 'upload',
      source: `oss://${BUCKET}/${unsettled.key}`,
      upload: { bucket: BUCKET, key: unsettled.key, eTag: unsettled.eTag },
    });
    // Marked in flight whatever its status: the watcher still owes its notifications (result object, webhook...).
    expect(await jobs.listInflight()).toContain(created.jobId);
    expect(retry.skipped).toEqual([{ source: `oss://${BUCKET}/${unsettled.key}`, reason: 'duplicate', jobId: created.jobId }]);
    expect(ice.jobs().filter((job) => JSON.stringify(job.appParams).includes(unsettled.key))).toHaveLength(1);
  });

  it('refuses --job-id for a job ICE does not know and leaves the record as it was', async () => {
    // Arrange
    const unsettled = await unsettledUpload('drop');

    // Act
    const result = await cli(['resolve', unsettled.recordKey, '--job-id', '0123456789abcdef0123456789abcdef']);

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'yike-jobs: JOB_NOT_FOUND: ICE does not know job 0123456789abcdef0123456789abcdef; the record is left as it was\n',
    });
    expect(await store.get(unsettled.recordKey)).toMatchObject({ status: 'OUTCOME_UNKNOWN' });
  });

  it('settles a record with --resubmit through the deployed function, which submits exactly one job', async () => {
    // Arrange: the dropped submit created no job
    const unsettled = await unsettledUpload('drop');
    const jobsBefore = ice.jobs().length;

    // Act
    const result = await cli(['resolve', unsettled.recordKey, '--resubmit']);

    // Assert
    expect(result.code).toBe(0);
    const [answer] = jsonLines(result.stdout);
    const newJobs = ice.jobs().slice(jobsBefore);
    expect(newJobs).toHaveLength(1);
    expect(newJobs[0]!.appParams).toEqual({ 'LoadImage.1.TargetImage': `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/${unsettled.key}` });
    expect(answer).toMatchObject({ recordKey: unsettled.recordKey, resolved: 'resubmitted', resubmitted: true, jobId: newJobs[0]!.jobId, via: 'fc-sync' });
    expect(await store.get(unsettled.recordKey)).toMatchObject({ status: 'COMPLETED', result: { jobId: newJobs[0]!.jobId } });
    expect(fc.invocations().filter((invocation) => invocation.functionName === FUNCTION_NAME)).toHaveLength(1);
  });

  it('settles a record with --resubmit --local by running the upload handler in-process', async () => {
    // Arrange
    const unsettled = await unsettledUpload('drop');
    const jobsBefore = ice.jobs().length;

    // Act
    const result = await cli(['resolve', unsettled.recordKey, '--resubmit', '--local']);
    const again = await cli(['resolve', unsettled.recordKey, '--resubmit', '--local']);

    // Assert
    const newJobs = ice.jobs().slice(jobsBefore);
    expect(newJobs).toHaveLength(1);
    expect(jsonLines(result.stdout)).toEqual([expect.objectContaining({ resolved: 'resubmitted', jobId: newJobs[0]!.jobId, via: 'local' })]);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `yike-jobs: NOT_OUTCOME_UNKNOWN: ${unsettled.recordKey} is COMPLETED; only OUTCOME_UNKNOWN records need settling\n`,
    });
  });

  it('lists job records by status and time and shows one', async () => {
    // Arrange
    const old = newJobRecord({
      jobId: 'list-old',
      appId: 'sys-ao-smith-1',
      source: 'oss://yike-uploads/uploads/female/old.jpg',
      entryPoint: 'upload',
      now: new Date('2026-01-01T00:00:00Z'),
    });
    const failed = {
      ...newJobRecord({
        jobId: 'list-failed',
        appId: 'sys-ao-smith-2',
        source: 'https://img.example/a.jpg',
        entryPoint: 'http',
        now: new Date('2026-11-01T00:00:00Z'),
      }),
      status: 'Failed',
      error: { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' },
    };
    await jobs.create(old);
    await jobs.create(failed);

    // Act
    const byStatus = await cli(['list', '--status', 'Failed']);
    const bySince = await cli(['list', '--since', '2026-06-01T00:00:00Z']);
    const shown = await cli(['show', 'list-failed']);
    const missing = await cli(['show', 'no-such-job']);
    const badSince = await cli(['list', '--since', 'yesterday']);

    // Assert
    expect(jsonLines(byStatus.stdout)).toEqual([
      {
        jobId: 'list-failed',
        status: 'Failed',
        appId: 'sys-ao-smith-2',
        source: 'https://img.example/a.jpg',
        submittedAt: '2026-11-01T00:00:00.000Z',
        updatedAt: '2026-11-01T00:00:00.000Z',
        outputUrls: [],
        error: { code: 'JOB_FAILED', message: 'ICE reported the job as Failed' },
      },
    ]);
    expect(jsonLines(bySince.stdout).map((line) => line.jobId)).toContain('list-failed');
    expect(jsonLines(bySince.stdout).map((line) => line.jobId)).not.toContain('list-old');
    expect(JSON.parse(shown.stdout)).toEqual(failed);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `yike-jobs: JOB_NOT_FOUND: No job record for no-such-job in oss://${BUCKET}/${PREFIX}jobs/\n` });
    expect(badSince).toMatchObject({ code: 1, stderr: 'yike-jobs: INVALID_ARGUMENTS: --since: an ISO-8601 time such as 2026-11-30T00:00:00Z (see --help)\n' });
  });
});
