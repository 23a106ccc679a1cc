import { webhookSecret } from '../../helpers/webhooks';
import { lineStatuses, startDoctorCloud, startWebhookReceiver, type DoctorCloud, type DoctorRow } from './harness';

/**
 * Each fault injected alone into npm start's local cloud (with a webhook that answers): the doctor's table flips
 * exactly that fault's line to ✖, every other line stays as on the healthy cloud, the exit code is 1, and the line
 * says what to do. (The image form's fault is in doctor-image-form.test.ts: the findings are cached per process, as
 * per FC instance, and that fault changes the finding.)
 */
const WEBHOOK_SECRET = webhookSecret('doctor');

describe('npx yike-doctor with one fault injected', () => {
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let healthy: Record<string, DoctorRow['status']>;
  const worlds: DoctorCloud[] = [];

  async function world(options: Parameters<typeof startDoctorCloud>[0] = {}): Promise<DoctorCloud> {
    const started = await startDoctorCloud({ ...options, env: { JOB_WEBHOOK_URL: webhook.url, JOB_WEBHOOK_SECRET: WEBHOOK_SECRET, ...options.env } });
    worlds.push(started);
    return started;
  }

  /** The lines whose status differs from the healthy cloud's. */
  const flipped = (checks: readonly DoctorRow[]) => Object.fromEntries(Object.entries(lineStatuses(checks)).filter(([id, status]) => healthy[id] !== status));
  const failuresOf = (checks: readonly DoctorRow[], id: string) =>
    checks.filter((check) => check.id === id && check.status === 'fail').map(({ functionName, detail, fix }) => ({ functionName, detail, fix }));

  beforeAll(async () => {
    webhook = await startWebhookReceiver(204);
    const { report } = await (await world()).doctor(['--json']);
    healthy = lineStatuses(report!.checks);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(worlds.map((started) => started.close()));
    await webhook.close();
  });

  it('is all green without a fault (the baseline the other cases compare with)', () => {
    // Assert
    expect(Object.entries(healthy).filter(([, status]) => status === 'fail')).toEqual([]);
    expect(healthy.webhook).toBe('pass');
  });

  it('flips only the ICE permissions line when the role may not call BatchGetYikeAIAppJob, naming the action ICE answered Forbidden.RAM', async () => {
    // Arrange
    const faulty = await world({ forbiddenActions: ['BatchGetYikeAIAppJob'] });

    // Act
    const { code, report } = await faulty.doctor(['--json']);

    // Assert
    expect(code).toBe(1);
    expect(report!.ready).toBe(false);
    expect(flipped(report!.checks)).toEqual({ 'ice.permissions': 'fail' });
    expect(failuresOf(report!.checks, 'ice.permissions')).toEqual([
      {
        functionName: 'yike-job-watcher',
        detail: 'denied: ice:BatchGetYikeAIAppJob (Forbidden.RAM)',
        fix: "add ice:BatchGetYikeAIAppJob to the role's policy (npm run deploy grants every action the functions call: deploy/infrastructure.json)",
      },
    ]);
  }, 60_000);

  it('flips only the region line when the bucket is in another region than ICE', async () => {
    // Arrange
    const faulty = await world({ bucketRegion: 'cn-hangzhou' });

    // Act
    const { code, report } = await faulty.doctor(['--json']);

    // Assert
    expect(code).toBe(1);
    expect(flipped(report!.checks)).toEqual({ 'oss.region': 'fail' });
    expect(failuresOf(report!.checks, 'oss.region')[0]).toEqual({
      functionName: 'yike-http-submit',
      detail: 'yike-uploads is in cn-hangzhou; ICE_REGION is cn-shanghai (ICE reads OSS only in its own region)',
      fix: 'use a bucket in cn-shanghai, or deploy everything to cn-hangzhou (YIKE_REGION=cn-hangzhou) if ICE runs there',
    });
  }, 60_000);

  it('flips only the CORS line when the bucket has no CORS rule for the page', async () => {
    // Arrange
    const faulty = await world({ cors: false });

    // Act
    const { code, report } = await faulty.doctor(['--json']);

    // Assert
    expect(code).toBe(1);
    expect(flipped(report!.checks)).toEqual({ 'deploy.cors': 'fail' });
    const [line] = failuresOf(report!.checks, 'deploy.cors');
    const origin = new URL(faulty.cloud.gateway.url).origin;
    expect(line).toEqual({
      functionName: undefined,
      detail: `yike-uploads has 0 CORS rules, none allowing POST from ${origin}`,
      fix: `add a CORS rule to yike-uploads: AllowedOrigin ${origin}, AllowedMethod POST, AllowedHeader * (docs/page.md, "What the deployment needs")`,
    });
  }, 60_000);

  it('flips only the webhook line when the webhook answers 500', async () => {
    // Arrange
    const broken = await startWebhookReceiver(500);
    const faulty = await world({ env: { JOB_WEBHOOK_URL: broken.url } });

    // Act
    const { code, report } = await faulty.doctor(['--json']);
    await broken.close();

    // Assert
    expect(code).toBe(1);
    expect(flipped(report!.checks)).toEqual({ webhook: 'fail' });
    expect(failuresOf(report!.checks, 'webhook').map((line) => line.functionName)).toEqual(['yike-job-watcher', 'yike-budget-renewal']);
    expect(failuresOf(report!.checks, 'webhook')[0]!.fix).toBe(
      'make the receiver answer 2xx to a POST it can verify (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature; docs/lifecycle.md; ignore type "yike.test"), or unset YIKE_JOB_WEBHOOK_URL',
    );
    expect(broken.received.map((delivery) => JSON.parse(delivery.body).type)).toEqual(['yike.test', 'yike.test']);
  }, 60_000);

  it('flips only the timer line when the watcher has no timer trigger', async () => {
    // Arrange
    const faulty = await world({ timerTrigger: false });

    // Act
    const { code, report } = await faulty.doctor(['--json']);

    // Assert
    expect(code).toBe(1);
    expect(flipped(report!.checks)).toEqual({ 'deploy.timer': 'fail' });
    expect(failuresOf(report!.checks, 'deploy.timer')).toEqual([
      {
        functionName: 'yike-job-watcher',
        detail: 'no timer trigger: no job is followed to its end',
        fix: 'npx s job-watcher deploy (s.yaml every-minute)',
      },
    ]);
  }, 60_000);

  it('flips only the delay line, to a ✖ that leaves the deployment ready, when the FC API ignores x-fc-async-delay', async () => {
    // Arrange: the local FC API runs delayed invocations at once (LOCAL_FC_IGNORE_ASYNC_DELAY=1)
    const faulty = await world({ env: { LOCAL_FC_IGNORE_ASYNC_DELAY: '1' } });

    // Act
    const { code, report } = await faulty.doctor(['--json']);

    // Assert: the watcher's probe, sent with a 5 s delay, arrived at once; rounds still work (they sleep), so exit 0
    expect(code).toBe(0);
    expect(report!.ready).toBe(true);
    expect(flipped(report!.checks)).toEqual({ 'fc.async-delay': 'fail' });
    const [line] = failuresOf(report!.checks, 'fc.async-delay');
    expect(line!.functionName).toBe('yike-job-watcher');
    expect(line!.detail).toMatch(
      /^a probe invoked with a 5 s delay arrived \d+\.\d s later: FC ignored x-fc-async-delay; each scheduled round arrives early, waits and sleeps between rounds \(billed as before\)$/,
    );
    expect(report!.checks.find((check) => check.id === 'fc.async-delay')!.required).toBe(false);
  }, 60_000);
});
