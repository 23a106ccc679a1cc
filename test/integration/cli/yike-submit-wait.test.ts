import { join } from 'node:path';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { putLocalObject, runCli, tempDir } from '../../helpers/local-cloud';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'yike-submit.js');
const BUCKET = 'yike-uploads';
const IMAGE = `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/uploads/me.jpg`;
/** The local ICE ends a job Failed when its image key contains "fail". */
const FAILING_IMAGE = `https://${BUCKET}.oss-cn-shanghai.aliyuncs.com/uploads/will-fail.jpg`;

const CLOCK_START_MS = Date.now();
const POLL_STEP_MS = 250;
/** Polls at job ages 0, 250, ..., 1,500 ms: the 7th sees the job's end. */
const POLLS_TO_THE_END = 7;
const polls = (ice: LocalIceServer | undefined) => ice?.calls().filter((call) => call.action === 'GetYikeAIAppJob').length ?? 0;

describe('npx yike-submit --wait follows the job to its end', () => {
  let fastIce: LocalIceServer;
  let slowIce: LocalIceServer;
  let oss: LocalOssServer;
  const dir = tempDir('submit-wait-');

  beforeAll(async () => {
    // ICE's precheck (PRECHECK=on by default) reads the images from a local bucket.
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    // Jobs run 1.5 s: Created for the first 150 ms (the first poll comes right after the submit), Queuing to 500 ms,
    // Executing to 1.5 s, on a job clock that each GetYikeAIAppJob moves by 250 ms: every poll of the CLI sees the job
    // a step older, so it sees each status, however fast or slow the machine runs the CLI.
    fastIce = await startIceServer({ finishAfterMs: 1500, now: () => CLOCK_START_MS + polls(fastIce) * POLL_STEP_MS, images: { ossUrl: oss.url } });
    slowIce = await startIceServer({ finishAfterMs: 600_000, images: { ossUrl: oss.url } });
    for (const key of ['uploads/me.jpg', 'uploads/will-fail.jpg']) await putLocalObject(oss.url, BUCKET, key);
  });
  afterAll(async () => {
    await Promise.all([fastIce.close(), slowIce.close(), oss.close()]);
    dir.remove();
  });
  beforeEach(() => {
    fastIce.reset();
    slowIce.reset();
  });

  const cli = (ice: LocalIceServer, args: string[]) => runCli(BIN, args.includes('--app') ? args : [...args, '--app', 'female'], { ICE_ENDPOINT: ice.url });

  it('prints each status change with the elapsed time, ends with the output URL and exits 0 for Finished', async () => {
    // Act
    const result = await cli(fastIce, ['--image', IMAGE, '--wait', '--interval', '0.1']);

    // Assert
    const [job] = fastIce.jobs();
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `${JSON.stringify({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' })}\n` +
        `${fastIce.httpsUrl}/__local/outputs/${job!.jobId}.mp4\n`,
    );
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`+0.0s Submitted ${job!.jobId}`);
    expect(lines.slice(1).map((line) => line.replace(/^\+\d+\.\ds /, ''))).toEqual(['Created', 'Queuing', 'Executing', 'Finished']);
    const times = lines.map((line) => Number(/^\+(\d+\.\d)s/.exec(line)![1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Polled until it saw Finished, and not once more.
    expect(polls(fastIce)).toBe(POLLS_TO_THE_END);
  });

  it('exits 3 naming the job when ICE ends it Failed, and prints no output URL', async () => {
    // Act
    const result = await cli(fastIce, ['--image', FAILING_IMAGE, '--wait', '--interval', '0.1']);

    // Assert
    const [job] = fastIce.jobs();
    expect(result.code).toBe(3);
    expect(result.stdout).toBe(`${JSON.stringify({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' })}\n`);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`+0.0s Submitted ${job!.jobId}`);
    expect(lines.slice(1, -1).map((line) => line.replace(/^\+\d+\.\ds /, ''))).toEqual(['Created', 'Queuing', 'Executing', 'Failed']);
    expect(lines.at(-1)).toBe(`yike-submit: JOB_FAILED: ICE reports job ${job!.jobId} as Failed`);
    const actions = fastIce.calls().map((call) => call.action);
    expect(actions.slice(0, 2)).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    expect(actions.slice(2)).toEqual(Array(POLLS_TO_THE_END).fill('GetYikeAIAppJob'));
    expect(fastIce.jobs()).toHaveLength(1);
  });

  it('exits 4 naming the last status when --timeout runs out first', async () => {
    // Act
    const result = await cli(slowIce, ['--image', IMAGE, '--wait', '--timeout', '1', '--interval', '0.2']);

    // Assert
    const [job] = slowIce.jobs();
    expect(result.code).toBe(4);
    expect(result.stdout).toBe(`${JSON.stringify({ jobId: job!.jobId, requestId: job!.requestId, appId: 'sys-ao-smith-1' })}\n`);
    expect(result.stderr).toMatch(
      new RegExp(
        `^\\+0\\.0s Submitted ${job!.jobId}\\n\\+\\d+\\.\\ds Created\\nyike-submit: TIMED_OUT: job ${job!.jobId} is still Created after 1s \\(--timeout\\); it keeps running at ICE\\n$`,
      ),
    );
  });

  it('exits 1 for --timeout without --wait and for a bad --interval, submitting nothing', async () => {
    // Act
    const stray = await cli(slowIce, ['--image', IMAGE, '--timeout', '5']);
    const badInterval = await cli(slowIce, ['--image', IMAGE, '--wait', '--interval', 'often']);

    // Assert
    expect(stray).toEqual({ code: 1, stdout: '', stderr: 'yike-submit: INVALID_ARGUMENTS: --timeout only applies with --wait\n' });
    expect(badInterval).toEqual({
      code: 1,
      stdout: '',
      stderr: 'yike-submit: INVALID_ARGUMENTS: --interval: expected seconds from 0.1 to 3600, got "often"\n',
    });
    expect(slowIce.jobs()).toEqual([]);
  });
});
