import { createHmac } from 'node:crypto';
import { parseConfig } from '../../../../shared/runtime/config';
import { parseTimerEvent } from '../../../../shared/triggers/events/timer';
import { newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { nextAttemptDelayMs, notificationFor, resultObjectLocation } from '../../../../shared/domain/lifecycle/notify';
import { signWebhook, verifyWebhookSignature } from '../../../../shared/adapters/webhook/webhook';
import { skipReasonForObject } from '../../../../shared/domain/submissions/submissions';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';

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
    expect(() => parseConfig({ JOB_WEBHOOK_URL: url, JOB_WEBHOOK_SECRET: 'x'.repeat(16) })).toThrow(message);
  });

  it('accepts http only on loopback and requires a secret of at least 16 characters with any webhook', () => {
    expect(parseConfig({ JOB_WEBHOOK_URL: 'http://127.0.0.1:8080/h', JOB_WEBHOOK_SECRET: 'x'.repeat(16) }).lifecycle.webhook).toEqual({
      url: 'http://127.0.0.1:8080/h',
      secret: 'x'.repeat(16),
      maxAttempts: 10,
      timeoutMs: 5_000,
    });
    expect(() => parseConfig({ JOB_WEBHOOK_URL: 'https://hooks.example.com/y' })).toThrow('JOB_WEBHOOK_SECRET: required when JOB_WEBHOOK_URL is set');
    expect(() => parseConfig({ JOB_WEBHOOK_URL: 'https://hooks.example.com/y', JOB_WEBHOOK_SECRET: 'short' })).toThrow(
      'JOB_WEBHOOK_SECRET: must be at least 16 characters',
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

  it('signs t.body with HMAC-SHA256 as docs/lifecycle.md documents, and the verifier refuses a changed body or an old timestamp', () => {
    // Arrange
    const body = '{"id":"job-1.finished"}';

    // Act
    const header = signWebhook('s3cret-s3cret-s3cret', body, 1_700_000_000);

    // Assert
    expect(header).toBe(`t=1700000000,v1=${createHmac('sha256', 's3cret-s3cret-s3cret').update(`1700000000.${body}`).digest('hex')}`);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, header, 1_700_000_010)).toBe(true);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', `${body} `, header, 1_700_000_010)).toBe(false);
    expect(verifyWebhookSignature('s3cret-s3cret-s3cret', body, header, 1_700_000_000 + 301)).toBe(false);
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
