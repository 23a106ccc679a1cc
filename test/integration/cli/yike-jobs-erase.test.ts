import { join } from 'node:path';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { createOssClient } from '../../../shared/adapters/oss/client';
import { createOssRecordStore } from '../../../shared/adapters/oss/record-store';
import { createJobRecordStore, jobRecordKey, newJobRecord, type JobRecordStore } from '../../../shared/domain/lifecycle/job-record';
import type { RecordStore } from '../../../shared/domain/ports';
import { jsonLines, LOCAL_CREDENTIALS, runCli, tempDir, testConfig } from '../../helpers/local-cloud';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-jobs.js');
const BUCKET = 'yike-uploads';
const PREFIX = '.yike-jobs/';

describe('npx yike-jobs lists jobs from the job index, reindexes old records and erases a job', () => {
  let oss: LocalOssServer;
  let dir: ReturnType<typeof tempDir>;
  let store: RecordStore;
  let jobs: JobRecordStore;

  const cli = (args: string[]) => runCli(BIN, [...args, '--bucket', BUCKET], { OSS_ENDPOINT: oss.localhostUrl, LOG_LEVEL: 'error' });
  const job = (jobId: string, appId: string, day: number) =>
    newJobRecord({ jobId, appId, source: `https://img.example/${jobId}.jpg`, entryPoint: 'http', now: new Date(Date.UTC(2026, 10, day)) });

  beforeAll(async () => {
    dir = tempDir('yike-jobs-erase-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    store = createOssRecordStore(createOssClient(testConfig({ OSS_ENDPOINT: oss.localhostUrl }).oss, LOCAL_CREDENTIALS, BUCKET));
    jobs = createJobRecordStore(store, PREFIX);
  });
  afterAll(async () => {
    await oss.close();
    dir.remove();
  });

  it('lists a record written before the index only after reindex, filters by app, and keeps the oldest-first order', async () => {
    // Arrange: two jobs recorded with their index entries, one the old way (its record alone)
    await jobs.create(job('cli-female', 'sys-ao-smith-1', 3));
    await jobs.create(job('cli-male', 'sys-ao-smith-2', 5));
    await store.put(jobRecordKey(PREFIX, 'cli-legacy'), job('cli-legacy', 'sys-ao-smith-2', 1));

    // Act
    const before = await cli(['list']);
    const reindexed = await cli(['reindex']);
    const after = await cli(['list']);
    const male = await cli(['list', '--app', 'male']);
    const badApp = await cli(['list', '--app', 'robot']);

    // Assert
    expect(jsonLines(before.stdout).map((line) => line.jobId)).toEqual(['cli-female', 'cli-male']);
    expect(reindexed).toEqual({ code: 0, stdout: `${JSON.stringify({ records: 3, indexed: 3 })}\n`, stderr: '' });
    expect(jsonLines(after.stdout).map((line) => line.jobId)).toEqual(['cli-legacy', 'cli-female', 'cli-male']);
    expect(jsonLines(male.stdout).map((line) => line.jobId)).toEqual(['cli-legacy', 'cli-male']);
    expect(badApp).toMatchObject({ code: 1, stderr: expect.stringMatching(/^yike-jobs: UNKNOWN_APP: --app: unknown app "robot"/) });
  });

  it('erases a job as DELETE /jobs/{jobId} does, prints what went, and refuses a second time', async () => {
    // Arrange
    await jobs.create(job('cli-erase', 'sys-ao-smith-1', 7));

    // Act
    const erased = await cli(['erase', 'cli-erase']);
    const again = await cli(['erase', 'cli-erase']);
    const missing = await cli(['erase']);

    // Assert
    expect(erased.code).toBe(0);
    const [line] = jsonLines(erased.stdout);
    expect(line).toMatchObject({ status: 'erased', jobId: 'cli-erase', erasedAt: expect.any(String), kept: [] });
    expect(line.deleted).toEqual(expect.arrayContaining([`oss://${BUCKET}/${PREFIX}jobs/cli-erase.json`, `oss://${BUCKET}/${PREFIX}inflight/cli-erase`]));
    expect(oss.listKeys(BUCKET).filter((key) => key.includes('cli-erase'))).toEqual([
      `${PREFIX}erased/cli-erase.json`,
      expect.stringContaining(`${PREFIX}erasures/`),
    ]);
    expect(again).toEqual({ code: 1, stdout: '', stderr: `yike-jobs: JOB_NOT_FOUND: Job cli-erase was erased at ${line.erasedAt}\n` });
    expect(missing).toMatchObject({ code: 1, stderr: 'yike-jobs: INVALID_ARGUMENTS: erase needs a jobId (see --help)\n' });
  });
});
