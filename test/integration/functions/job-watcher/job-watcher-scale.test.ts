import { startWatcherFixture, type WatcherFixture } from '../../../../bench/watcher';
import { parseConfig } from '../../../../shared/runtime/config';
import { createIceClient } from '../../../../shared/adapters/ice/client';
import { createOssRecordStore } from '../../../../shared/adapters/oss/record-store';
import { createLogger } from '../../../../shared/runtime/logger';
import { createOssClient } from '../../../../shared/adapters/oss/client';
import { cursorKey, runWatcher } from '../../../../shared/domain/lifecycle/watcher';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jobRecordKey } from '../../../../shared/domain/lifecycle/job-record';
import { LOCAL_CREDENTIALS } from '../../../helpers/local-cloud';
import { deliverWebhook } from '../../../../shared/adapters/webhook/webhook';
import { simulatedClock } from '../../../helpers/waiting';

const BUCKET = 'yike-uploads';
const JOBS = 2_500;

describe('the job watcher at scale', () => {
  let fixture: WatcherFixture | undefined;
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('settles 2,500 in-flight jobs in one run, each notified exactly once, with at most 250 BatchGetYikeAIAppJob calls', async () => {
    // Arrange: the webhook channel only (result objects are covered in job-lifecycle-notifications.test.ts), and the
    // run on a simulated clock that does not run out: how many jobs fit in a 60 s function is a bench figure
    // (`npm run bench`, watcher row), not something this machine's speed may decide here.
    fixture = await startWatcherFixture(JOBS, { JOB_RESULTS: 'copy' });
    const clock = simulatedClock();

    // Act
    const { summary, iceCalls } = await fixture.runWatcher(60, undefined, { now: clock.now, sleep: clock.sleep });

    // Assert
    expect(summary).toMatchObject({ inflight: JOBS, settled: JOBS, delivered: JOBS, stoppedEarly: false, iceErrors: 0, jobErrors: 0 });
    expect(iceCalls).toBeLessThanOrEqual(250);
    expect(fixture.ice.calls().every((call) => call.action === 'BatchGetYikeAIAppJob' && call.status === 200)).toBe(true);
    const ids = fixture.webhookIds();
    expect(ids).toHaveLength(JOBS);
    expect(new Set(ids).size).toBe(JOBS);
    expect(ids.every((id) => /^bench\d{27}\.finished$/.test(id))).toBe(true);
    expect(fixture.oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/inflight/'))).toEqual([]);
  }, 300_000);

  it('stops when its time is nearly up, saves where it stopped, and the next run starts there', async () => {
    // Arrange
    fixture = await startWatcherFixture(60);
    // One round per run, and no output copies: this is about the cursor.
    const config = parseConfig({ ...fixture.env, JOB_RESULTS: 'none' }, { lifecycle: { roundSeconds: 3_600 } });
    const credentials = () => ({ ...LOCAL_CREDENTIALS });
    const recordStore = () => createOssRecordStore(createOssClient(config.oss, credentials(), BUCKET));
    const deps = {
      config,
      ice: createIceClient({ config: config.ice, credentials }),
      recordStore,
      sendWebhook: deliverWebhook,
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

  it('settles the rest of a BatchGet answer when one JobList entry is unreadable, and leaves that one job in flight', async () => {
    // Arrange: 20 finished jobs (two BatchGet chunks); a proxy in front of the local ICE drops `Status` from one entry
    fixture = await startWatcherFixture(20, { JOB_RESULTS: 'copy' }, { tuning: { lifecycle: { jobTimeoutSeconds: 1 } } });
    const broken = `bench${String(3).padStart(27, '0')}`;
    const target = new URL(fixture.env.ICE_ENDPOINT!);
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        // Forwarded as received (the ACS3 signature covers the Host header, which is kept).
        const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            let text = Buffer.concat(body).toString('utf8');
            if (req.headers['x-acs-action'] === 'BatchGetYikeAIAppJob') {
              const parsed = JSON.parse(text) as { JobList?: Record<string, unknown>[] };
              for (const entry of parsed.JobList ?? []) if (entry.JobId === broken) delete entry.Status;
              text = JSON.stringify(parsed);
            }
            const { 'transfer-encoding': _chunked, ...kept } = answer.headers;
            const headers = { ...kept, 'content-length': String(Buffer.byteLength(text)) };
            res.writeHead(answer.statusCode ?? 502, headers).end(text);
          });
        });
        forward.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const config = parseConfig(
      { ...fixture.env, JOB_RESULTS: 'none', ICE_ENDPOINT: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
      { lifecycle: { roundSeconds: 3_600, jobTimeoutSeconds: 1 } },
    );
    const credentials = () => ({ ...LOCAL_CREDENTIALS });
    const recordStore = () => createOssRecordStore(createOssClient(config.oss, credentials(), BUCKET));
    const deps = {
      config,
      ice: createIceClient({ config: config.ice, credentials }),
      recordStore,
      sendWebhook: deliverWebhook,
      logger: createLogger({ level: 'error', sink: () => undefined }),
    };

    // Act
    const summary = await runWatcher([BUCKET], { ...deps, remainingTimeMs: () => 60_000 });
    await new Promise((resolve) => proxy.close(resolve));

    // Assert: the other 19 settle; the unreadable one is neither settled nor timed out (asked again next tick)
    expect(summary).toMatchObject({ inflight: 20, settled: 19, iceCalls: 2, iceErrors: 0 });
    const record = await recordStore().get<{ status: string }>(jobRecordKey(config.records.prefix, broken));
    expect(record?.status).not.toMatch(/^(Finished|TimedOut)$/);
    expect(fixture.oss.listKeys(BUCKET).filter((key) => key.startsWith('.yike-jobs/inflight/'))).toEqual([`.yike-jobs/inflight/${broken}`]);
  });
});
