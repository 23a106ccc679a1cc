import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { handler } from '../../../functions/oss-submit/index';
import { startFcInvokeServer, type AsyncHandler, type LocalFcInvokeServer } from '../../../local/fc/invoke-server';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { runBackfill } from '../../../cli/backfill/backfill';
import { checkpointSchema } from '../../../cli/backfill/checkpoint';
import type { BackfillOptions, BackfillSummary } from '../../../cli/backfill/types';
import { parseConfig, type Config } from '../../../shared/runtime/config';
import { createFunctionInvoker, type FunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { createOssClient } from '../../../shared/adapters/oss/client';
import { publicObjectUrl } from '../../../shared/domain/images/oss-urls';
import { LOCAL_CREDENTIALS, tempDir } from '../../helpers/local-cloud';
import {
  ACCOUNT_ID,
  APP_ROUTES,
  CLI_BUCKET,
  CLI_IMAGES_PER_FOLDER,
  backfillCliEnv,
  closedPort,
  FAST,
  FUNCTION_NAME,
  imageBytes,
  imageOf,
  INTERRUPT_AFTER_INVOCATIONS,
  jobsFor,
  keyOfEvent,
  lister,
  MAIN_BUCKET,
  mapLimited,
  REGION,
  RESUME_BUCKET,
  runCli,
  type Seed,
  SLOW_TEST_MS,
  thousandObjects,
  UPLOAD_CONCURRENCY,
} from './backfill-harness';

describe('yike-backfill against local OSS, a local FC invoke endpoint and local ICE', () => {
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let fc: LocalFcInvokeServer;
  let dir: ReturnType<typeof tempDir>;
  let config: Config;
  let invoker: FunctionInvoker;
  let seed: Seed;
  const savedEnv: Record<string, string | undefined> = {};

  function setEnv(values: Record<string, string>): void {
    for (const [name, value] of Object.entries(values)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
  }

  function ossClient(bucket: string): OSS {
    return createOssClient(config.oss, LOCAL_CREDENTIALS, bucket);
  }

  async function seedBucket(bucket: string, objects: Seed): Promise<void> {
    const client = ossClient(bucket);
    const uploads = [...objects.images.map((key) => ({ key, body: imageBytes(key) })), ...objects.others];
    await mapLimited(uploads, UPLOAD_CONCURRENCY, ({ key, body }) => client.put(key, body));
  }

  /** A backfill through the FC invoke endpoint with async invocations, as the CLI runs it. */
  function backfill(bucket: string, overrides: Partial<BackfillOptions> = {}): Promise<BackfillSummary> {
    const prefix = overrides.prefix ?? '';
    return runBackfill({
      bucket,
      prefix,
      dryRun: false,
      list: lister(ossClient(bucket), prefix),
      submit: async (event) => void (await invoker.invokeAsync(FUNCTION_NAME, event)),
      config,
      checkpointPath: join(dir.path, `${bucket}.checkpoint.json`),
      ...FAST,
      ...overrides,
    });
  }

  const cliEnv = (extra: Record<string, string> = {}) => backfillCliEnv(ice.url, oss.localhostUrl, extra);

  beforeAll(async () => {
    dir = tempDir('backfill-it-');
    oss = await startOssServer({ dataDir: join(dir.path, 'oss'), buckets: [MAIN_BUCKET, RESUME_BUCKET, CLI_BUCKET], region: REGION, accountId: ACCOUNT_ID });
    // ICE's precheck reads the seeded images from the local OSS.
    ice = await startIceServer({ finishAfterMs: 200, images: { ossUrl: oss.url } });
    fc = await startFcInvokeServer({
      functions: {
        [FUNCTION_NAME]: handler as unknown as AsyncHandler,
        echo: async (event) => JSON.parse(event.toString('utf8')),
        broken: async () => {
          throw new TypeError('boom');
        },
      },
      contextCredentials: LOCAL_CREDENTIALS,
      asyncConcurrency: 16,
      accountId: ACCOUNT_ID,
    });
    // loadConfig caches per env object: everything the handler reads is set before its first invocation.
    setEnv({
      ICE_ENDPOINT: ice.url,
      OSS_ENDPOINT: oss.localhostUrl,
      APP_ROUTES,
      DEFAULT_APP: 'female',
      FC_ENDPOINT: fc.url,
      FC_ACCOUNT_ID: ACCOUNT_ID,
      ICE_RETRY_BASE_MS: '1',
      ICE_RETRY_MAX_MS: '5',
      LOG_LEVEL: 'error',
    });
    config = parseConfig(process.env);
    invoker = createFunctionInvoker({ config: config.fc, credentials: () => LOCAL_CREDENTIALS });
    seed = thousandObjects();
    await Promise.all([
      seedBucket(MAIN_BUCKET, seed),
      seedBucket(RESUME_BUCKET, seed),
      seedBucket(CLI_BUCKET, {
        images: ['female', 'male'].flatMap((folder) => Array.from({ length: CLI_IMAGES_PER_FOLDER }, (_, i) => `uploads/${folder}/cli-${i}.jpg`)),
        others: [{ key: 'uploads/male/readme.txt', body: Buffer.from('not an image'), reason: 'not-an-image' }],
      }),
    ]);
  }, SLOW_TEST_MS);

  afterAll(async () => {
    await fc?.idle();
    await Promise.all([fc?.close(), ice?.close(), oss?.close()]);
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    dir?.remove();
  });

  const expectedUrls = (bucket: string, keys: string[]) => keys.map((key) => publicObjectUrl(bucket, REGION, key)).sort();

  it(
    'submits every image among 1,000 objects exactly once through async invocations, and never invokes the rest',
    async () => {
      // Act
      const summary = await backfill(MAIN_BUCKET);
      await fc.idle();

      // Assert
      expect(summary).toMatchObject({
        listed: 1000,
        invoked: 950,
        skipped: { 'not-an-image': 20, 'empty-object': 15, 'records-prefix': 15 },
        failed: [],
        interrupted: false,
      });
      const jobs = jobsFor(ice, MAIN_BUCKET);
      expect(jobs.map(imageOf).sort()).toEqual(expectedUrls(MAIN_BUCKET, seed.images));
      expect(new Set(jobs.map(imageOf)).size).toBe(jobs.length);
      expect(jobs.filter((job) => job.appId === 'sys-ao-smith-1')).toHaveLength(475);
      const invocations = fc.invocations().filter((invocation) => invocation.functionName === FUNCTION_NAME);
      expect(invocations.every((invocation) => invocation.invocationType === 'Async' && invocation.status === 202)).toBe(true);
      expect(invocations.map((invocation) => keyOfEvent(invocation.event)).sort()).toEqual([...seed.images].sort());
      expect(fc.asyncResults(FUNCTION_NAME).filter((record) => record.status !== 'succeeded')).toEqual([]);
    },
    SLOW_TEST_MS,
  );

  it(
    'submits nothing new on a full re-run, because every upload already has its job record',
    async () => {
      // Arrange
      const jobsBefore = jobsFor(ice, MAIN_BUCKET).length;
      const resultsBefore = fc.asyncResults(FUNCTION_NAME).length;

      // Act: the completed checkpoint of the first run makes this one start over.
      const summary = await backfill(MAIN_BUCKET);
      await fc.idle();

      // Assert
      expect(summary).toMatchObject({ invoked: 950, failed: [], interrupted: false });
      expect(summary.resumedFrom).toBeUndefined();
      // The records the first run wrote are listed now, and skipped as records: per job its upload's idempotency
      // record, its job record and its in-flight marker (no watcher ran).
      expect(summary.skipped['records-prefix']).toBe(15 + 950 * 3);
      expect(jobsFor(ice, MAIN_BUCKET)).toHaveLength(jobsBefore);
      const rerun = fc.asyncResults(FUNCTION_NAME).slice(resultsBefore);
      expect(rerun).toHaveLength(950);
      expect(rerun.every((record) => (record.result as { skipped: { reason: string }[] }).skipped[0]?.reason === 'duplicate')).toBe(true);
    },
    SLOW_TEST_MS,
  );

  it('invokes nothing in a dry run and reports what it would invoke', async () => {
    // Arrange
    const invocationsBefore = fc.invocations().length;
    const checkpointPath = join(dir.path, `${MAIN_BUCKET}.checkpoint.json`);
    const checkpointBefore = readFileSync(checkpointPath, 'utf8');

    // Act
    const summary = await backfill(MAIN_BUCKET, { dryRun: true, prefix: 'uploads/', checkpointPath });

    // Assert
    expect(summary).toMatchObject({ dryRun: true, listed: 985, invoked: 0, wouldInvoke: 950, skipped: { 'not-an-image': 20, 'empty-object': 15 } });
    expect(fc.invocations()).toHaveLength(invocationsBefore);
    expect(readFileSync(checkpointPath, 'utf8')).toBe(checkpointBefore);
  });

  it(
    'resumes an interrupted run after its checkpoint marker and still submits every image exactly once',
    async () => {
      // Arrange: abort after ~300 invocations, as Ctrl-C does.
      const controller = new AbortController();
      let invocations = 0;
      const checkpointPath = join(dir.path, 'resume.checkpoint.json');
      const countingSubmit = async (event: Buffer) => {
        invocations += 1;
        if (invocations === INTERRUPT_AFTER_INVOCATIONS) controller.abort();
        await invoker.invokeAsync(FUNCTION_NAME, event);
      };
      const first = await backfill(RESUME_BUCKET, { submit: countingSubmit, signal: controller.signal, checkpointPath });
      const checkpoint = checkpointSchema.parse(JSON.parse(readFileSync(checkpointPath, 'utf8')));
      const markers: (string | undefined)[] = [];
      const list = lister(ossClient(RESUME_BUCKET));

      // Act
      const second = await backfill(RESUME_BUCKET, {
        checkpointPath,
        list: (marker) => {
          markers.push(marker);
          return list(marker);
        },
      });
      await fc.idle();

      // Assert
      expect(first.interrupted).toBe(true);
      expect(first.invoked).toBeGreaterThanOrEqual(INTERRUPT_AFTER_INVOCATIONS);
      expect(first.invoked).toBeLessThan(950);
      expect(checkpoint).toMatchObject({ completed: false, marker: first.marker });
      expect(markers[0]).toBe(checkpoint.marker);
      expect(second).toMatchObject({ resumedFrom: checkpoint.marker, interrupted: false, failed: [] });
      expect(second.totals.invoked).toBe(first.invoked + second.invoked);
      const jobs = jobsFor(ice, RESUME_BUCKET);
      expect(jobs.map(imageOf).sort()).toEqual(expectedUrls(RESUME_BUCKET, seed.images));
      expect(new Set(jobs.map(imageOf)).size).toBe(jobs.length);
    },
    SLOW_TEST_MS,
  );

  describe('the FC invoke endpoint', () => {
    it('rejects a request signed with the wrong secret with the ACS3 verdict, and runs nothing', async () => {
      // Arrange
      const wrong = createFunctionInvoker({ config: config.fc, credentials: () => ({ ...LOCAL_CREDENTIALS, accessKeySecret: 'not-the-secret' }) });
      const before = fc.invocations().length;

      // Act
      const error = await wrong.invokeAsync(FUNCTION_NAME, Buffer.from('{}')).catch((caught: unknown) => caught);

      // Assert
      expect(error).toMatchObject({
        name: 'FcInvokeError',
        code: 'SignatureDoesNotMatch',
        statusCode: 400,
        outcome: 'rejected',
        retryable: false,
        attempts: 1,
      });
      expect(fc.invocations()).toHaveLength(before);
    });

    it('answers 404 FunctionNotFound for a function the account does not have', async () => {
      // Act
      const error = await invoker.invokeAsync('no-such-function', Buffer.from('{}')).catch((caught: unknown) => caught);

      // Assert
      expect(error).toMatchObject({ code: 'FunctionNotFound', statusCode: 404, retryable: false });
      expect((error as { requestId?: string }).requestId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    });

    it('runs a sync invocation and returns the result, or the function error with x-fc-error-type', async () => {
      // Act
      const ok = await invoker.invokeSync('echo', Buffer.from('{"hello":"world"}'), { qualifier: 'LATEST' });
      const failed = await invoker.invokeSync('broken', Buffer.from('{}'));

      // Assert
      expect(ok).toMatchObject({ statusCode: 200, errorType: undefined });
      expect(JSON.parse(ok.body.toString('utf8'))).toEqual({ hello: 'world' });
      expect(fc.invocations().find((invocation) => invocation.functionName === 'echo')).toMatchObject({ qualifier: 'LATEST', invocationType: 'Sync' });
      expect(failed).toMatchObject({ statusCode: 200, errorType: 'UnhandledInvocationError' });
      expect(JSON.parse(failed.body.toString('utf8'))).toMatchObject({ errorMessage: 'boom', errorType: 'TypeError' });
    });

    it('retries an invocation that could not be sent, with backoff, then reports it', async () => {
      // Arrange
      const port = await closedPort();
      const retries: number[] = [];
      const unreachable = createFunctionInvoker({
        config: { ...config.fc, endpoint: `127.0.0.1:${port}`, protocol: 'http' },
        credentials: () => LOCAL_CREDENTIALS,
        retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
        onRetry: ({ attempt }) => retries.push(attempt),
      });

      // Act
      const error = await unreachable.invokeAsync(FUNCTION_NAME, Buffer.from('{}')).catch((caught: unknown) => caught);

      // Assert
      expect(error).toMatchObject({ code: 'FC_CONNECTION_FAILED', outcome: 'not-sent', attempts: 3 });
      expect(retries).toEqual([1, 2]);
    });

    it('says which variables to set when no FC endpoint is configured', () => {
      // Act
      const create = () =>
        createFunctionInvoker({ config: { region: REGION, protocol: 'https', submitFunctionName: FUNCTION_NAME }, credentials: () => LOCAL_CREDENTIALS });

      // Assert
      expect(create).toThrow(expect.objectContaining({ code: 'FC_CONFIG_MISSING', message: expect.stringMatching(/FC_ACCOUNT_ID.*FC_ENDPOINT/) }));
    });
  });

  describe('the yike-backfill command', () => {
    it(
      'with --local runs the submit function in its own process and prints the summary as JSON',
      async () => {
        // Arrange
        const invocationsBefore = fc.invocations().length;
        const checkpoint = join(dir.path, 'cli-local.checkpoint.json');

        // Act
        const run = await runCli(
          ['--bucket', CLI_BUCKET, '--prefix', 'uploads/female/', '--local', '--concurrency', '8', '--rate', '500', '--checkpoint', checkpoint],
          cliEnv(),
        );

        // Assert
        expect(run).toMatchObject({ code: 0 });
        expect(JSON.parse(run.stdout)).toMatchObject({
          mode: 'local',
          bucket: CLI_BUCKET,
          listed: CLI_IMAGES_PER_FOLDER,
          invoked: CLI_IMAGES_PER_FOLDER,
          failed: [],
          interrupted: false,
        });
        const keys = Array.from({ length: CLI_IMAGES_PER_FOLDER }, (_, i) => `uploads/female/cli-${i}.jpg`);
        expect(jobsFor(ice, CLI_BUCKET).map(imageOf).sort()).toEqual(expectedUrls(CLI_BUCKET, keys));
        expect(fc.invocations()).toHaveLength(invocationsBefore);
        expect(existsSync(checkpoint)).toBe(true);
      },
      SLOW_TEST_MS,
    );

    it(
      'invokes the function asynchronously through FC_ENDPOINT end to end and prints the summary as JSON',
      async () => {
        // Arrange
        const checkpoint = join(dir.path, 'cli-async.checkpoint.json');
        const jobsBefore = jobsFor(ice, CLI_BUCKET).length;

        // Act
        const run = await runCli(
          ['--bucket', CLI_BUCKET, '--prefix', 'uploads/male/', '--concurrency', '8', '--rate', '500', '--checkpoint', checkpoint],
          cliEnv({ FC_ENDPOINT: fc.url, FC_ACCOUNT_ID: ACCOUNT_ID }),
        );
        await fc.idle();

        // Assert
        expect(run).toMatchObject({ code: 0 });
        const summary = JSON.parse(run.stdout);
        expect(summary).toMatchObject({
          mode: 'fc-async',
          function: FUNCTION_NAME,
          listed: CLI_IMAGES_PER_FOLDER + 1,
          invoked: CLI_IMAGES_PER_FOLDER,
          skipped: { 'not-an-image': 1 },
        });
        expect(run.stderr).toMatch(/100%/);
        expect(jobsFor(ice, CLI_BUCKET)).toHaveLength(jobsBefore + CLI_IMAGES_PER_FOLDER);
      },
      SLOW_TEST_MS,
    );

    it('exits 1 with one line naming the code when the arguments are wrong', async () => {
      // Act
      const run = await runCli(['--bucket', 'Not_A_Bucket'], cliEnv());

      // Assert
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('yike-backfill: INVALID_ARGUMENTS: --bucket: must be an OSS bucket name (see --help)\n');
    });
  });
});
