import Ajv from 'ajv';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfig, UPLOAD_EVENT_NAMES } from '../../../shared/runtime/config';
import { envSchema } from '../../../shared/runtime/env';
import { UPLOAD_TRIGGER } from '../../../local/oss/trigger';
import { tempDir } from '../../helpers/local-cloud';
import { preview, S_BIN } from '../../helpers/s-preview';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/** The fc3 component's own schema for a resource's props (test/fixtures/fc3/README.md says where it comes from). */
const FC3_SCHEMA = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'fc3', 'schema.json'), 'utf8'));
/** Which definition each trigger type's triggerConfig must meet (the schema itself accepts any object there). */
const TRIGGER_CONFIG_DEFINITIONS: Record<string, string> = {
  http: 'IHttpTriggerConfig',
  oss: 'IOssTriggerConfig',
  timer: 'ITimerTriggerConfig',
  eventbridge: 'IEventBridge',
};

describe('s.yaml and s.eventbridge.yaml as Serverless Devs renders them (s preview, offline)', () => {
  let resources: Awaited<ReturnType<typeof preview>>;
  let home: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    home = tempDir('s-home-');
    // s.eventbridge.yaml: all of s.yaml, and oss-submit-eventbridge.
    resources = await preview({ YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: 'deploy-test-token' }, home.path, 's.eventbridge.yaml');
  }, 70_000);
  afterAll(() => home.remove());

  describe('http-submit auth (secure by default)', () => {
    it('refuses to render without YIKE_AUTH_TOKENS, naming the variable', async () => {
      // Act
      const rendering = preview({ YIKE_ACCOUNT_ID: '123456789012' }, home.path);

      // Assert
      await expect(rendering).rejects.toMatchObject({ stdout: expect.stringContaining("env('YIKE_AUTH_TOKENS') not found") });
    }, 70_000);

    it('renders HTTP_AUTH=token with the tokens behind an anonymous trigger', () => {
      const props = resources['http-submit']!.props;
      expect(props.environmentVariables).toMatchObject({ HTTP_AUTH: 'token', AUTH_TOKENS: 'deploy-test-token' });
      expect(props.triggers.find((t) => t.triggerType === 'http')!.triggerConfig.authType).toBe('anonymous');
    });

    it('with YIKE_HTTP_AUTH=none needs no tokens and switches the trigger to authType function', async () => {
      // Act
      const open = await preview({ YIKE_ACCOUNT_ID: '123456789012', YIKE_HTTP_AUTH: 'none' }, home.path);

      // Assert
      const props = open['http-submit']!.props;
      expect(props.environmentVariables).toMatchObject({ HTTP_AUTH: 'none', AUTH_TOKENS: '' });
      expect(props.triggers.find((t) => t.triggerType === 'http')!.triggerConfig.authType).toBe('function');
      expect(() => parseConfig(props.environmentVariables)).not.toThrow();
    }, 70_000);
  });

  it('deploys every function as a nodejs20 fc3 function from its bundle in dist/', () => {
    for (const [name, { component, props }] of Object.entries(resources)) {
      expect({ name, component, runtime: props.runtime, handler: props.handler }).toEqual({
        name,
        component: 'fc3',
        runtime: 'nodejs20',
        handler: 'index.handler',
      });
      expect(existsSync(join(ROOT, props.code, 'index.js'))).toBe(true);
      expect(props.role).toBe('acs:ram::123456789012:role/yike-fc-role');
    }
    expect(
      Object.values(resources)
        .map((r) => r.props.code)
        .sort(),
    ).toEqual(['./dist/budget-renewal', './dist/http-submit', './dist/job-watcher', './dist/oss-submit', './dist/oss-submit']);
  });

  it('builds before each resource deploys, so `s deploy` works from a fresh clone', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.build).toBe('node scripts/build.mjs');
    for (const { actions } of Object.values(resources)) expect(actions).toEqual({ 'pre-deploy': [{ run: 'npm run build', path: './' }] });
  });

  it('takes the account id from `s config` (AccountID) when YIKE_ACCOUNT_ID is not set', async () => {
    // Arrange: an access configured the way `s config add` does it, in a HOME of its own
    const configured = tempDir('s-config-');
    try {
      await run(
        process.execPath,
        [S_BIN, 'config', 'add', '--AccountID', '987654321098', '--AccessKeyID', 'LTAI-test', '--AccessKeySecret', 'test-secret', '-a', 'default', '-f'],
        {
          env: { PATH: process.env.PATH, HOME: configured.path },
          timeout: 60_000,
        },
      );

      // Act
      const rendered = await preview({ YIKE_AUTH_TOKENS: 'deploy-test-token' }, configured.path);

      // Assert
      for (const { props } of Object.values(rendered)) expect(props.role).toBe('acs:ram::987654321098:role/yike-fc-role');
      expect(rendered['oss-submit']!.props.triggers[0]!.sourceArn).toBe('acs:oss:cn-shanghai:987654321098:yike-uploads');
    } finally {
      configured.remove();
    }
  }, 70_000);

  it("meets the fc3 component's own schema (src/schema.json), every trigger against its type's definition", () => {
    // Arrange
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validateProps = ajv.compile(FC3_SCHEMA);
    const triggerValidators = Object.fromEntries(
      Object.entries(TRIGGER_CONFIG_DEFINITIONS).map(([type, definition]) => [
        type,
        ajv.compile({
          ...FC3_SCHEMA,
          $ref: `#/definitions/${definition}`,
          required: undefined,
          properties: undefined,
          if: undefined,
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else keyword, dropped from the copy
          then: undefined,
          else: undefined,
          type: undefined,
        }),
      ]),
    );

    // Act
    const problems: string[] = [];
    for (const [name, { props }] of Object.entries(resources)) {
      if (!validateProps(props)) problems.push(...validateProps.errors!.map((e) => `${name}${e.instancePath}: ${e.message}`));
      for (const trigger of props.triggers) {
        const validate = triggerValidators[trigger.triggerType];
        if (!validate) problems.push(`${name}: no check for trigger type ${trigger.triggerType}`);
        else if (!validate(trigger.triggerConfig))
          problems.push(...validate.errors!.map((e) => `${name}/${trigger.triggerName}${e.instancePath}: ${e.message}`));
      }
    }

    // Assert
    expect(problems).toEqual([]);
  });

  it('fires the job watcher every minute with a timer trigger', () => {
    // Arrange
    const watcher = resources['job-watcher']!.props;

    // Assert
    expect(watcher).toMatchObject({ functionName: 'yike-job-watcher', code: './dist/job-watcher', handler: 'index.handler' });
    expect(watcher.triggers).toEqual([
      {
        triggerName: 'every-minute',
        triggerType: 'timer',
        qualifier: 'LATEST',
        triggerConfig: { cronExpression: '0 * * * * *', enable: true, payload: 'job-watcher-tick' },
      },
    ]);
    expect(watcher.environmentVariables).toEqual({
      ICE_REGION: 'cn-shanghai',
      RECORDS_BUCKET: 'yike-uploads',
      JOB_WEBHOOK_URL: '',
      JOB_WEBHOOK_SECRET: '',
      WEBHOOK_ALLOWED_HOSTS: '',
      JOB_NEXT_FUNCTION: '',
      JOB_RESULTS: 'copy,object',
      // YIKE_RETENTION_DAYS unset: jobs are kept until erased.
      RETENTION_DAYS: '',
      LOG_LEVEL: 'info',
    });
    // A run of rounds ends before the next tick's first round: the timer every 60 s, rounds every 10 s, the 10 s reserve.
    expect(watcher).toMatchObject({ timeout: 65 });
    // Every function keeps its records in the bucket the watcher lists.
    for (const { props } of Object.values(resources)) expect(props.environmentVariables.RECORDS_BUCKET).toBe('yike-uploads');
    // The empty webhook and next-function settings mean "off", not an invalid value.
    expect(parseConfig(watcher.environmentVariables).lifecycle).toEqual({
      resultObjects: true,
      jobTimeoutSeconds: 21_600,
      webhook: undefined,
      jobWebhooks: { allowedHosts: [], maxAttempts: 10, timeoutMs: 5_000 },
      nextFunction: undefined,
      watchBuckets: ['yike-uploads'],
      roundSeconds: 10,
      delayedRounds: true,
      reconcileMinutes: 10,
      resultCopy: { maxBytes: 2 * 1024 * 1024 * 1024, maxWaitSeconds: 300 },
    });
  });

  it('gives every function that spends the budget and the quotas (YIKE_JOB_BUDGET_PER_DAY, YIKE_AUTH_TOKENS), and fires budget-renewal every minute', async () => {
    // Arrange: a budget, and a token in the JSON form with a quota (as its sha256 digest)
    const tokens = JSON.stringify([{ name: 'campaign', token: `sha256:${'c'.repeat(64)}`, jobsPerDay: 10 }]);

    // Act
    const rendered = await preview(
      { YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: tokens, YIKE_JOB_BUDGET_PER_DAY: '50' },
      home.path,
      's.eventbridge.yaml',
    );

    // Assert
    for (const name of ['http-submit', 'oss-submit', 'oss-submit-eventbridge', 'budget-renewal']) {
      const config = parseConfig(rendered[name]!.props.environmentVariables);
      expect({ name, ...config.budget }).toMatchObject({ name, perDay: 50, timeZone: 'Asia/Shanghai', tokenQuotas: { campaign: 10 } });
    }
    const renewal = rendered['budget-renewal']!.props;
    expect(renewal).toMatchObject({ functionName: 'yike-budget-renewal', code: './dist/budget-renewal', concurrencyConfig: { reservedConcurrency: 1 } });
    expect(renewal.triggers).toEqual([
      {
        triggerName: 'every-minute',
        triggerType: 'timer',
        qualifier: 'LATEST',
        triggerConfig: { cronExpression: '30 * * * * *', enable: true, payload: 'budget-renewal-tick' },
      },
    ]);
    // It submits through the upload path: oss-submit's settings, plus the webhook for the alerts.
    const ossEnv = rendered['oss-submit']!.props.environmentVariables;
    for (const variable of ['APP_ROUTES', 'IMAGE_URL_MODE', 'PRECHECK', 'RECORDS_BUCKET', 'IMAGE_SUFFIXES']) {
      expect({ variable, value: renewal.environmentVariables[variable] }).toEqual({ variable, value: ossEnv[variable] });
    }
    expect(Object.keys(renewal.environmentVariables)).toEqual(expect.arrayContaining(['JOB_WEBHOOK_URL', 'JOB_WEBHOOK_SECRET']));
  }, 70_000);

  it('sets only environment variables the functions know, with values that parse', () => {
    const known = new Set(Object.keys(envSchema.shape));
    for (const { props } of Object.values(resources)) {
      expect(Object.keys(props.environmentVariables).filter((name) => !known.has(name))).toEqual([]);
      expect(() => parseConfig(props.environmentVariables)).not.toThrow();
    }
  });

  it('gives the submit functions the auto image mode and the precheck by default (YIKE_IMAGE_URL_MODE, YIKE_PRECHECK change them)', () => {
    for (const name of ['http-submit', 'oss-submit', 'oss-submit-eventbridge']) {
      expect({ name, ...parseConfig(resources[name]!.props.environmentVariables).oss }).toMatchObject({ name, imageUrlMode: 'auto' });
      expect({ name, precheck: resources[name]!.props.environmentVariables.PRECHECK }).toEqual({ name, precheck: 'on' });
    }
  });

  it('gives the OSS trigger the same rule the local OSS endpoint applies, outside the records prefix', () => {
    // Arrange
    const trigger = resources['oss-submit']!.props.triggers.find((t) => t.triggerType === 'oss')!;
    const recordsPrefix = parseConfig(resources['oss-submit']!.props.environmentVariables).records.prefix;

    // Assert: the events that submit are exactly the trigger's (the function skips any other)
    expect(trigger.triggerConfig.events).toEqual(UPLOAD_TRIGGER.events);
    expect(trigger.triggerConfig.events).toEqual(UPLOAD_EVENT_NAMES.map((name) => `oss:ObjectCreated:${name}`));
    expect(trigger.triggerConfig.filter.key.prefix).toBe(UPLOAD_TRIGGER.prefix);
    expect(recordsPrefix.startsWith(UPLOAD_TRIGGER.prefix!)).toBe(false);
    expect(trigger.sourceArn).toBe('acs:oss:cn-shanghai:123456789012:yike-uploads');
    expect(trigger.invocationRole).toBe('acs:ram::123456789012:role/aliyunosseventnotificationrole');
  });

  it('keeps async invocation settings within FC’s documented ranges, with both destinations', () => {
    for (const name of ['oss-submit', 'oss-submit-eventbridge']) {
      const config = resources[name]!.props.asyncInvokeConfig!;
      expect(config.maxAsyncRetryAttempts).toBeGreaterThanOrEqual(0);
      expect(config.maxAsyncRetryAttempts).toBeLessThanOrEqual(8);
      expect(config.maxAsyncEventAgeInSeconds).toBeGreaterThanOrEqual(1);
      expect(config.maxAsyncEventAgeInSeconds).toBeLessThanOrEqual(2_592_000);
      expect(Object.keys(config.destinationConfig).sort()).toEqual(['onFailure', 'onSuccess']);
      for (const { destination } of Object.values(config.destinationConfig)) expect(destination).toMatch(/^acs:(mns|fc):cn-shanghai::/);
    }
  });

  it('lets the watcher’s own delayed invocations wait longer than their delay and never retries them (the timer covers a lost round)', () => {
    // Arrange
    const config = resources['job-watcher']!.props.asyncInvokeConfig!;

    // Assert: rounds are at most 60 s off (a further one is the timer's), the doctor's probe 5 s
    expect(config).toEqual({ maxAsyncRetryAttempts: 0, maxAsyncEventAgeInSeconds: 300 });
    expect(config.maxAsyncEventAgeInSeconds).toBeGreaterThan(60);
  });

  it('uses an HTTP trigger authType the fc3 schema accepts', () => {
    const trigger = resources['http-submit']!.props.triggers.find((t) => t.triggerType === 'http')!;
    expect(['anonymous', 'function']).toContain(trigger.triggerConfig.authType);
    // DELETE /jobs/{jobId} too: an HTTP trigger runs the function only for the methods it lists.
    expect(trigger.triggerConfig.methods).toEqual(['GET', 'POST', 'DELETE']);
  });

  it('routes only OSS object-created events under the EventBridge prefix to the EventBridge function', () => {
    // Arrange
    const trigger = resources['oss-submit-eventbridge']!.props.triggers.find((t) => t.triggerType === 'eventbridge')!;

    // Act
    const pattern = JSON.parse(trigger.triggerConfig.eventRuleFilterPattern);

    // Assert
    expect(pattern).toEqual({
      source: ['acs.oss'],
      type: [{ prefix: 'oss:ObjectCreated:' }],
      subject: [{ prefix: 'acs:oss:cn-shanghai:123456789012:yike-uploads/eventbridge-uploads/' }],
    });
  });

  it('deploys oss-submit-eventbridge only from s.eventbridge.yaml: s.yaml alone has the four functions', async () => {
    // Act
    const alone = await preview({ YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: 'deploy-test-token' }, home.path);

    // Assert
    expect(Object.keys(alone)).toEqual(['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal']);
    expect(Object.keys(resources)).toEqual(['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal', 'oss-submit-eventbridge']);
  }, 70_000);

  it("takes the role, the trigger's role and the destinations from the stack's outputs, and hands the EventBridge function's successes to the next function only when one is named", async () => {
    // Act
    const rendered = await preview(
      {
        YIKE_ACCOUNT_ID: '123456789012',
        YIKE_AUTH_TOKENS: 'deploy-test-token',
        YIKE_ROLE_ARN: 'acs:ram::123456789012:role/from-the-stack',
        YIKE_OSS_TRIGGER_ROLE_ARN: 'acs:ram::123456789012:role/trigger-from-the-stack',
        YIKE_SUBMITTED_QUEUE_ARN: 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-submitted',
        YIKE_FAILED_QUEUE_ARN: 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-failed',
        YIKE_JOB_NEXT_FUNCTION: 'my-next-step',
      },
      home.path,
      's.eventbridge.yaml',
    );

    // Assert
    for (const { props } of Object.values(rendered)) expect(props.role).toBe('acs:ram::123456789012:role/from-the-stack');
    expect(rendered['oss-submit']!.props.triggers[0]!.invocationRole).toBe('acs:ram::123456789012:role/trigger-from-the-stack');
    expect(rendered['oss-submit']!.props.asyncInvokeConfig!.destinationConfig).toEqual({
      onSuccess: { destination: 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-submitted/messages' },
      onFailure: { destination: 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-failed/messages' },
    });
    expect(rendered['oss-submit-eventbridge']!.props.asyncInvokeConfig!.destinationConfig).toEqual({
      onSuccess: { destination: 'acs:fc:cn-shanghai::functions/my-next-step' },
      onFailure: { destination: 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-failed/messages' },
    });
    // Without a next function, the EventBridge function's successes go where oss-submit's do.
    expect(resources['oss-submit-eventbridge']!.props.asyncInvokeConfig!.destinationConfig.onSuccess).toEqual({
      destination: 'acs:mns:cn-shanghai::/queues/yike-jobs-submitted/messages',
    });
  }, 70_000);

  it('caps paid jobs at 100 a day unless another number, or none, is said', async () => {
    // Act
    const none = await preview({ YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: 'deploy-test-token', YIKE_JOB_BUDGET_PER_DAY: 'none' }, home.path);

    // Assert
    for (const name of ['http-submit', 'oss-submit', 'budget-renewal']) {
      expect({ name, byDefault: parseConfig(resources[name]!.props.environmentVariables).budget.perDay }).toEqual({ name, byDefault: 100 });
      expect({ name, none: parseConfig(none[name]!.props.environmentVariables).budget.perDay }).toEqual({ name, none: undefined });
    }
  }, 70_000);
});
