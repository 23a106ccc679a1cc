import { createHmac } from 'node:crypto';
import { parseConfig } from '../../../../shared/runtime/config';
import { parseTimerEvent } from '../../../../shared/triggers/events/timer';
import { newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { nextAttemptDelayMs, notificationFor, resultObjectLocation } from '../../../../shared/domain/lifecycle/notify';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from '../../../../shared/adapters/webhook/webhook';
import { skipReasonForObject } from '../../../../shared/domain/submissions/submissions';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';

/** A Standard Webhooks key: whsec_ and the base64 of 32 bytes. */
const KEY = Buffer.alloc(32, 7);
const SECRET = `whsec_${KEY.toString('base64')}`;

const record = () => ({
  ...newJobRecord({
    jobId: 'job-1',
    appId: 'sys-ao-smith-1',
    source: 'oss://b/uploads/a.png',
    entryPoint: 'upload',
    upload: { bucket: 'b', key: 'uploads/a.png', eTag: 'E' },
    now: new Date('2026-11-30T10:00:00Z'),
  }),
  status: 'Finished',
  settledAt: '2026-11-30T10:05:00.000Z',
  notifications: { webhook: { status: 'pending' as const, attempts: 1 } },
  notifyRound: 1,
});

describe('job lifecycle configuration', () => {
  it('defaults to result objects under .yike-results/, a 6 h timeout, 10 webhook attempts, 10 s rounds as delayed invocations, copies and a 1 h playUrl, watching ALLOWED_BUCKETS', () => {
    // Act
    const { lifecycle, oss } = parseConfig({ ALLOWED_BUCKETS: 'a-bucket,b-bucket' });

    // Assert
    expect(lifecycle).toEqual({
      resultObjects: true,
      jobTimeoutSeconds: 21_600,
      webhook: undefined,
      // Per-job webhooks are refused until WEBHOOK_ALLOWED_HOSTS names a host.
      jobWebhooks: { allowedHosts: [], maxAttempts: 10, timeoutMs: 5_000 },
      nextFunction: undefined,
      watchBuckets: ['a-bucket', 'b-bucket'],
      roundSeconds: 10,
      delayedRounds: true,
      reconcileMinutes: 10,
      resultCopy: { maxBytes: 2 * 1024 * 1024 * 1024, maxWaitSeconds: 300 },
    });
    // The playUrl lives as long as every other URL the functions sign.
    expect(oss.signedUrlExpiresSeconds).toBe(3_600);
  });

  it('watches RECORDS_BUCKET and every ALLOWED_BUCKETS, each once', () => {
    expect(parseConfig({ ALLOWED_BUCKETS: 'a-bucket,r-bucket', RECORDS_BUCKET: 'r-bucket' }).lifecycle.watchBuckets).toEqual(['r-bucket', 'a-bucket']);
  });

  it.each([
    ['copy,object', { resultCopy: true, resultObjects: true }],
    ['object, copy', { resultCopy: true, resultObjects: true }],
    ['copy', { resultCopy: true, resultObjects: false }],
    ['object', { resultCopy: false, resultObjects: true }],
    ['none', { resultCopy: false, resultObjects: false }],
  ])('makes copies and result objects as JOB_RESULTS=%s says', (value, expected) => {
    // Act
    const { lifecycle } = parseConfig({ JOB_RESULTS: value });

    // Assert
    expect({ resultCopy: lifecycle.resultCopy !== undefined, resultObjects: lifecycle.resultObjects }).toEqual(expected);
  });

  it.each(['copies', 'none,copy', '', 'copy,,object,url'])('refuses JOB_RESULTS=%j, naming it', (value) => {
    expect(() => parseConfig({ JOB_RESULTS: value })).toThrow('Invalid configuration: JOB_RESULTS: must be a comma list of copy and object, or none');
  });

  it.each([
    ['http://hooks.example.com/yike', 'JOB_WEBHOOK_URL: must be https (http only for 127.0.0.1, ::1 or localhost)'],
    ['ftp://hooks.example.com/', 'JOB_WEBHOOK_URL'],
    ['https://user:pw@hooks.example.com/yike', 'JOB_WEBHOOK_URL: must not carry credentials (user:password@); authenticate with JOB_WEBHOOK_SECRET'],
  ])('refuses the webhook URL %s', (url, message) => {
    expect(() => parseConfig({ JOB_WEBHOOK_URL: url, JOB_WEBHOOK_SECRET: SECRET })).toThrow(message);
  });

  it('accepts http only on loopback and requires a secret with any webhook', () => {
    expect(parseConfig({ JOB_WEBHOOK_URL: 'http://127.0.0.1:8080/h', JOB_WEBHOOK_SECRET: SECRET }).lifecycle.webhook).toEqual({
      url: 'http://127.0.0.1:8080/h',
      secret: SECRET,
      maxAttempts: 10,
      timeoutMs: 5_000,
    });
    expect(() => parseConfig({ JOB_WEBHOOK_URL: 'https://hooks.example.com/y' })).toThrow('JOB_WEBHOOK_SECRET: required when JOB_WEBHOOK_URL is set');
  });

  it.each([
    ['x'.repeat(40), 'a plain string'],
    [`whsec_${Buffer.alloc(16, 1).toString('base64')}`, 'a key of 16 bytes'],
    [`whsec_${Buffer.alloc(65, 1).toString('base64')}`, 'a key of 65 bytes'],
    [`whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`, 'base64 without its padding'],
    ['whsec_not*base64*at*all*not*base64*at*all*', 'not base64'],
  ])('refuses JOB_WEBHOOK_SECRET=%j (%s), naming it and the form it takes, never its value', (secret) => {
    // Act
    const attempt = () => parseConfig({ JOB_WEBHOOK_URL: 'https://hooks.example.com/y', JOB_WEBHOOK_SECRET: secret });

    // Assert
    expect(attempt).toThrow(
      'Invalid configuration: JOB_WEBHOOK_SECRET: must be whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)',
    );
    expect(() => attempt()).not.toThrow(secret);
  });

  it('takes WEBHOOK_ALLOWED_HOSTS as lower-case names and *.names, and refuses an entry that is no host name', () => {
    expect(parseConfig({ WEBHOOK_ALLOWED_HOSTS: 'Hooks.Example.com, *.tenants.example.net' }).lifecycle.jobWebhooks).toEqual({
      allowedHosts: ['hooks.example.com', '*.tenants.example.net'],
      maxAttempts: 10,
      timeoutMs: 5_000,
    });
    expect(() => parseConfig({ WEBHOOK_ALLOWED_HOSTS: 'https://hooks.example.com' })).toThrow(
      'WEBHOOK_ALLOWED_HOSTS: each entry must be a host name like hooks.example.com, or *.example.com',
    );
  });
});

describe('APP_ROUTES against the prefixes the functions write under', () => {
  it.each([
    ['{".yike-results/":"female"}', 'APP_ROUTES: ".yike-results/" must not overlap ".yike-results/", where the functions write their records and results'],
    ['{".yike-results/a/":"female"}', 'APP_ROUTES: ".yike-results/a/" must not overlap ".yike-results/"'],
    ['{"uploads/":"female",".yike-jobs/x/":"male"}', 'APP_ROUTES: ".yike-jobs/x/" must not overlap ".yike-jobs/"'],
  ])('refuses %s, which would route result objects or records as uploads', (routes, message) => {
    expect(() => parseConfig({ APP_ROUTES: routes })).toThrow(message);
  });
});

describe('the upload function never submits result objects', () => {
  it('skips keys under RESULTS_PREFIX like keys under RECORDS_PREFIX', () => {
    // Arrange
    const config = parseConfig({});
    const object = {
      bucket: 'b',
      key: '.yike-results/uploads/female/a.png.json',
      eTag: 'E',
      size: 10,
      eventName: 'PutObject',
      region: 'cn-shanghai',
      eventTime: '',
    };

    // Act / Assert
    expect(skipReasonForObject(object, config)).toBe('results-prefix');
    expect(skipReasonForObject({ ...object, key: '.yike-results/x.png' }, config)).toBe('results-prefix');
  });
});

describe('notifications', () => {
  it('builds one payload with a stable id, the settle time and the record without delivery bookkeeping', () => {
    // Act
    const payload = notificationFor(record());

    // Assert
    expect(payload).toMatchObject({
      id: 'job-1.finished',
      type: 'yike.job.finished',
      time: '2026-11-30T10:05:00.000Z',
      job: { jobId: 'job-1', status: 'Finished' },
    });
    expect(payload.job).not.toHaveProperty('notifications');
    expect(payload.job).not.toHaveProperty('notifyRound');
    expect(notificationFor({ ...record(), status: 'TimedOut' }).type).toBe('yike.job.timed-out');
  });

  it('puts the result object beside the upload, or under jobs/ in the records bucket', () => {
    expect(resultObjectLocation(record(), '.yike-results/', 'records')).toEqual({ bucket: 'b', key: '.yike-results/uploads/a.png.json' });
    expect(resultObjectLocation({ ...record(), upload: undefined }, '.yike-results/', 'records')).toEqual({
      bucket: 'records',
      key: '.yike-results/jobs/job-1.json',
    });
  });

  it('backs off 1, 2, 4 … minutes between attempts, capped at an hour', () => {
    expect([1, 2, 3, 7, 8, 20].map((attempts) => nextAttemptDelayMs(attempts, () => 0))).toEqual([60_000, 120_000, 240_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(nextAttemptDelayMs(1, () => 1)).toBe(72_000);
  });

  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256 under the whsec_ key, as Standard Webhooks does, and the standardwebhooks verifier accepts only the body signed', () => {
    // Arrange
    const body = '{"id":"job-1.finished"}';
    const now = Math.floor(Date.now() / 1000);

    // Act
    const signature = signWebhook(SECRET, 'job-1.finished', now, body);

    // Assert
    expect(signature).toBe(`v1,${createHmac('sha256', KEY).update(`job-1.finished.${now}.${body}`).digest('base64')}`);
    const headers = { 'webhook-id': 'job-1.finished', 'webhook-timestamp': String(now), 'webhook-signature': signature };
    expect(new Webhook(SECRET).verify(body, headers)).toEqual({ id: 'job-1.finished' });
    expect(() => new Webhook(SECRET).verify(`${body} `, headers)).toThrow('No matching signature found');
    expect(() => new Webhook(SECRET).verify(body, { ...headers, 'webhook-id': 'job-1.failed' })).toThrow('No matching signature found');
  });
});

describe('the FC timer trigger event', () => {
  it('parses the documented sample delivered as a Buffer', () => {
    expect(parseTimerEvent(asFcPayload(loadEvent('fc3-timer')))).toEqual({
      triggerTime: '2023-12-26T07:49:00Z',
      triggerName: 'timer-trigger',
      payload: 'awesome-fc',
    });
  });

  it('refuses an event without triggerTime or triggerName, naming the fields', () => {
    expect(() => parseTimerEvent(asFcPayload({ payload: 'x' }))).toThrow(/triggerTime.*triggerName/);
  });
});
