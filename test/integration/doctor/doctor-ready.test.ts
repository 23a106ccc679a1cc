import { verifiesWith, webhookSecret } from '../../helpers/webhooks';
import { lineStatuses, startDoctorCloud, startWebhookReceiver, type DoctorCloud } from './harness';

/** npx yike-doctor on npm start's local cloud: every required line ✔, nothing submitted, secrets only as set/unset. */
const FUNCTIONS = ['yike-http-submit', 'yike-oss-submit', 'yike-job-watcher', 'yike-budget-renewal'];
const WEBHOOK_SECRET = webhookSecret('doctor');

describe('npx yike-doctor on npm start’s local cloud', () => {
  let world: DoctorCloud;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;

  beforeAll(async () => {
    webhook = await startWebhookReceiver(204);
    world = await startDoctorCloud({ env: { JOB_WEBHOOK_URL: webhook.url, JOB_WEBHOOK_SECRET: WEBHOOK_SECRET } });
  });
  afterAll(async () => {
    await world.close();
    await webhook.close();
  });

  it('passes every required check, exits 0, says submit was not tried, and the local ICE saw no SubmitYikeAIAppJob', async () => {
    // Arrange
    const callsBefore = world.cloud.ice.calls().length;

    // Act
    const { code, report } = await world.doctor(['--json']);

    // Assert
    expect(code).toBe(0);
    expect(report!.ready).toBe(true);
    expect(report!.checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(lineStatuses(report!.checks)).toEqual({
      'deploy.function': 'pass',
      configuration: 'pass',
      credentials: 'pass',
      'ice.endpoint': 'pass',
      'ice.permissions': 'pass',
      'oss.records': 'pass',
      'oss.region': 'pass',
      'oss.image': 'pass',
      'image-mode': 'pass',
      'deploy.http-trigger': 'pass',
      'deploy.s-yaml': 'skip',
      'deploy.oss-trigger': 'pass',
      'oss.results': 'pass',
      webhook: 'pass',
      'next-function': 'skip',
      'fc.async-delay': 'pass',
      retention: 'skip',
      'deploy.timer': 'pass',
      'deploy.renewal-timer': 'pass',
      'deploy.cors': 'pass',
      'ice.submit': 'skip',
    });
    expect(report!.checks.at(-1)).toEqual({
      id: 'ice.submit',
      title: 'submit (SubmitYikeAIAppJob)',
      status: 'skip',
      required: false,
      detail: 'submit: not tried, it is paid',
    });
    const actions = world.cloud.ice
      .calls()
      .slice(callsBefore)
      .map((call) => call.action);
    expect(actions).not.toContain('SubmitYikeAIAppJob');
    expect(new Set(actions)).toEqual(new Set(['PrecheckYikeAIAppJob', 'GetYikeAssetMediaInfo', 'GetMediaInfo', 'GetYikeAIAppJob', 'BatchGetYikeAIAppJob']));
  }, 60_000);

  it('gives --json as {ready, checks, configurations}: each check with its function, and each function’s variables', async () => {
    // Act
    const { report } = await world.doctor(['--json']);

    // Assert
    expect(Object.keys(report!).sort()).toEqual(['checks', 'configurations', 'ready']);
    for (const check of report!.checks) {
      expect(Object.keys(check).every((key) => ['id', 'title', 'status', 'required', 'detail', 'fix', 'functionName'].includes(key))).toBe(true);
    }
    const permissions = report!.checks.filter((check) => check.id === 'ice.permissions');
    expect(permissions.map((check) => [check.functionName, check.detail])).toEqual([
      [
        'yike-http-submit',
        'permitted: ice:PrecheckYikeAIAppJob, ice:GetYikeAssetMediaInfo, ice:GetMediaInfo, ice:GetYikeAIAppJob (SubmitYikeAIAppJob is never tried: it is paid)',
      ],
      ['yike-oss-submit', 'permitted: ice:PrecheckYikeAIAppJob, ice:GetYikeAssetMediaInfo, ice:GetMediaInfo (SubmitYikeAIAppJob is never tried: it is paid)'],
      ['yike-job-watcher', 'permitted: ice:BatchGetYikeAIAppJob, ice:GetYikeAIAppJob (SubmitYikeAIAppJob is never tried: it is paid)'],
      [
        'yike-budget-renewal',
        'permitted: ice:PrecheckYikeAIAppJob, ice:GetYikeAssetMediaInfo, ice:GetMediaInfo (SubmitYikeAIAppJob is never tried: it is paid)',
      ],
    ]);
    expect(Object.keys((report as unknown as { configurations: object }).configurations)).toEqual(FUNCTIONS);
  }, 60_000);

  it('shows secrets only as set or unset, in the JSON and in the table, and never prints their values', async () => {
    // Act
    const json = await world.doctor(['--json']);
    const table = await world.doctor([]);

    // Assert
    const configurations = (json.report as unknown as { configurations: Record<string, Record<string, string>> }).configurations;
    expect(configurations['yike-http-submit']).toMatchObject({ AUTH_TOKENS: 'set', ALLOWED_BUCKETS: 'yike-uploads', JOB_WEBHOOK_SECRET: 'set' });
    expect(configurations['yike-job-watcher']).toMatchObject({ JOB_WEBHOOK_SECRET: 'set', JOB_WEBHOOK_URL: webhook.url, AUTH_TOKENS: 'set' });
    for (const output of [json.stdout, json.stderr, table.stdout, table.stderr]) {
      expect(output).not.toContain(world.cloud.token!);
      expect(output).not.toContain(WEBHOOK_SECRET);
    }
  }, 60_000);

  it('sends the webhook a yike.test delivery that the standardwebhooks package verifies with the configured secret', async () => {
    // Arrange
    webhook.received.length = 0;

    // Act
    await world.doctor(['--json']);

    // Assert: the watcher's and budget-renewal's (its alerts) doctors each sent one.
    expect(webhook.received.map((delivery) => JSON.parse(delivery.body).type)).toEqual(['yike.test', 'yike.test']);
    for (const delivery of webhook.received) {
      expect(delivery.headers['webhook-id']).toBe(JSON.parse(delivery.body).id);
      expect(verifiesWith(WEBHOOK_SECRET, delivery.body, delivery.headers)).toBe(true);
    }
  }, 60_000);

  it('prints one table of check, ✔/✖/–, detail and how to fix, ending with the verdict', async () => {
    // Act
    const { code, stdout } = await world.doctor([]);

    // Assert
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['| check | | detail | how to fix |', '|---|---|---|---|']);
    expect(lines).toContain('| submit (SubmitYikeAIAppJob) | – | submit: not tried, it is paid |  |');
    expect(lines.filter((line) => line.startsWith('| ')).length).toBe(1 + 21);
    expect(lines.at(-1)).toBe('17 ✔, 0 ✖, 4 –: this deployment is ready (drop one image under the upload prefix to see it work)');
  }, 60_000);
});
