import { join } from 'node:path';
import { createHandler } from '../../../functions/oss-submit/index';
import { BUCKET, clockAt, DAY_ONE, startBudgetCloud, type BudgetCloud } from '../../helpers/budget-cloud';
import { fcContext, jsonLines, runCli } from '../../helpers/local-cloud';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-jobs.js');

describe('npx yike-jobs deferred list | release, and usage', () => {
  let cloud: BudgetCloud;
  const keys = ['a', 'b', 'c', 'd'].map((name) => `uploads/female/cli-${name}.png`);

  beforeAll(async () => {
    cloud = await startBudgetCloud('yike-jobs-budget-');
    // A budget of 1 on DAY_ONE: the first upload is submitted, the other three wait in the line.
    const handler = createHandler({ env: cloud.env({ JOB_BUDGET_PER_DAY: '1' }), now: clockAt(DAY_ONE) });
    for (const key of keys) await handler(await cloud.upload(key), fcContext());
  });
  afterAll(() => cloud.close());

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(BIN, [...args, '--bucket', BUCKET], {
      ICE_ENDPOINT: cloud.ice.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: cloud.oss.localhostUrl,
      APP_ROUTES: '{"uploads/female/":"female"}',
      LOG_LEVEL: 'info',
      ...env,
    });
  const jobKeys = () => cloud.ice.jobs().map((job) => new URL(String(job.appParams['LoadImage.1.TargetImage'])).pathname.slice(1));

  it('lists what waits, oldest first, with its submit record status', async () => {
    // Act
    const listed = await cli(['deferred', 'list']);

    // Assert
    expect(listed.code).toBe(0);
    expect(jsonLines(listed.stdout)).toEqual(
      keys.slice(1).map((key) => ({
        entryKey: expect.stringMatching(/^\.yike-jobs\/deferred\/20261202T04000\d{4}Z-[0-9a-f]{16}\.json$/),
        deferredAt: expect.stringMatching(/^2026-12-02T04:00:0\d\.\d{3}Z$/),
        day: '2026-12-02',
        code: 'BUDGET_EXHAUSTED',
        source: `oss://${BUCKET}/${key}`,
        recordKey: expect.stringContaining(`.yike-jobs/objects/${BUCKET}/${key}@`),
        status: 'DEFERRED',
      })),
    );
  });

  it('releases the oldest item now within today\u2019s budget (--limit 1), then nothing more once today\u2019s budget is spent', async () => {
    // Act
    const first = await cli(['deferred', 'release', '--limit', '1'], { JOB_BUDGET_PER_DAY: '1' });
    const second = await cli(['deferred', 'release'], { JOB_BUDGET_PER_DAY: '1' });

    // Assert
    expect(first.code).toBe(0);
    expect(jsonLines(first.stdout)).toEqual([expect.objectContaining({ submitted: 1, kept: 0, stoppedEarly: true })]);
    expect(jobKeys()).toEqual(keys.slice(0, 2));
    expect(jsonLines(second.stdout)).toEqual([expect.objectContaining({ submitted: 0, waiting: 2, remaining: 0 })]);
    expect(jsonLines(first.stderr).find((line) => line.message === 'operator release: deferred items submitted now, within the budget')).toMatchObject({
      level: 'warn',
      tool: 'yike-jobs',
      limit: 1,
      overBudget: false,
    });
  });

  it('releases the rest over the budget with --over-budget, logs the override, and counts those jobs in the usage', async () => {
    // Act
    const released = await cli(['deferred', 'release', '--over-budget'], { JOB_BUDGET_PER_DAY: '1' });
    const usage = await cli(['usage'], { JOB_BUDGET_PER_DAY: '1' });
    const listed = await cli(['deferred', 'list']);

    // Assert
    expect(jsonLines(released.stdout)).toEqual([expect.objectContaining({ submitted: 2, waiting: 2 })]);
    expect(jobKeys()).toEqual(keys);
    expect(jsonLines(released.stderr).find((line) => line.message === 'operator override: deferred items released over the budget')).toMatchObject({
      level: 'warn',
      overBudget: true,
    });
    expect(jsonLines(usage.stdout)).toEqual([
      {
        day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        timezone: 'Asia/Shanghai',
        used: 3,
        limit: 1,
        remaining: 0,
        deferred: 0,
        resetsAt: expect.stringMatching(/T16:00:00\.000Z$/),
        tokens: [],
      },
    ]);
    expect(jsonLines(listed.stdout)).toEqual([]);
  });

  it.each([
    [['deferred'], 'deferred needs "list" or "release"'],
    [['deferred', 'release', '--limit', '0'], '--limit: a whole number of items, 1 or more'],
    [['usage', 'now'], 'unexpected argument "now"'],
  ])('refuses %j with exit 1 and one line naming the problem', async (args, message) => {
    // Act
    const result = await cli(args);

    // Assert
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`yike-jobs: INVALID_ARGUMENTS: ${message} (see --help)\n`);
  });
});
