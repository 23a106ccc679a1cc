import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { envSchema, parseConfig } from '../../shared/config';
import { UPLOAD_TRIGGER } from '../../local/oss-trigger';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

interface Trigger {
  triggerName: string;
  triggerType: string;
  invocationRole?: string;
  sourceArn?: string;
  triggerConfig: Record<string, any>;
}
interface FunctionProps {
  functionName: string;
  runtime: string;
  code: string;
  handler: string;
  role: string;
  environmentVariables: Record<string, string>;
  asyncInvokeConfig?: { maxAsyncRetryAttempts: number; maxAsyncEventAgeInSeconds: number; destinationConfig: Record<string, { destination: string }> };
  triggers: Trigger[];
}

type Resources = Record<string, { component: string; props: FunctionProps }>;

/** `s preview -o json` with only these variables (no shell leakage): the rendered resources. */
async function preview(env: Record<string, string>): Promise<Resources> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules', '@serverless-devs', 's', 'bin', 's'), 'preview', '-o', 'json'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, YIKE_ACCOUNT_ID: '123456789012', YIKE_UPLOAD_BUCKET: 'yike-uploads', ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))).resources;
}

describe('s.yaml as Serverless Devs renders it (s preview, offline)', () => {
  let resources: Resources;

  beforeAll(async () => {
    resources = await preview({ YIKE_AUTH_TOKENS: 'deploy-test-token' });
  }, 70_000);

  describe('http-submit auth (secure by default)', () => {
    it('refuses to render without YIKE_AUTH_TOKENS, naming the variable', async () => {
      // Act
      const rendering = preview({});

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
      const open = await preview({ YIKE_HTTP_AUTH: 'none' });

      // Assert
      const props = open['http-submit']!.props;
      expect(props.environmentVariables).toMatchObject({ HTTP_AUTH: 'none', AUTH_TOKENS: '' });
      expect(props.triggers.find((t) => t.triggerType === 'http')!.triggerConfig.authType).toBe('function');
      expect(() => parseConfig(props.environmentVariables)).not.toThrow();
    }, 70_000);
  });

  it('deploys every function as a nodejs20 fc3 function from its bundle in dist/', () => {
    for (const [name, { component, props }] of Object.entries(resources)) {
      expect({ name, component, runtime: props.runtime, handler: props.handler }).toEqual({ name, component: 'fc3', runtime: 'nodejs20', handler: 'index.handler' });
      expect(existsSync(join(ROOT, props.code, 'index.js'))).toBe(true);
      expect(props.role).toBe('acs:ram::123456789012:role/yike-fc-role');
    }
    expect(Object.values(resources).map((r) => r.props.code).sort()).toEqual(['./dist/http-submit', './dist/oss-submit', './dist/oss-submit']);
  });

  it('sets only environment variables the functions know, with values that parse', () => {
    const known = new Set(Object.keys(envSchema.shape));
    for (const { props } of Object.values(resources)) {
      expect(Object.keys(props.environmentVariables).filter((name) => !known.has(name))).toEqual([]);
      expect(() => parseConfig(props.environmentVariables)).not.toThrow();
    }
  });

  it('gives the OSS trigger the same rule the local OSS endpoint applies, outside the records prefix', () => {
    // Arrange
    const trigger = resources['oss-submit']!.props.triggers.find((t) => t.triggerType === 'oss')!;
    const recordsPrefix = resources['oss-submit']!.props.environmentVariables.RECORDS_PREFIX!;

    // Assert
    expect(trigger.triggerConfig.events).toEqual(UPLOAD_TRIGGER.events);
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

  it('uses an HTTP trigger authType the fc3 schema accepts', () => {
    const trigger = resources['http-submit']!.props.triggers.find((t) => t.triggerType === 'http')!;
    expect(['anonymous', 'function']).toContain(trigger.triggerConfig.authType);
    expect(trigger.triggerConfig.methods).toEqual(['GET', 'POST']);
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

  it('ships a least-privilege RAM policy for the role', () => {
    // Act
    const policy = JSON.parse(readFileSync(join(ROOT, 'deploy', 'ram-policy.json'), 'utf8'));
    const actions = policy.Statement.flatMap((statement: { Action: string | string[] }) => statement.Action);

    // Assert
    expect(actions).toEqual(expect.arrayContaining(['ice:SubmitYikeAIAppJob', 'oss:GetObject', 'oss:PutObject', 'oss:DeleteObject']));
    expect(actions.some((action: string) => action.endsWith('*'))).toBe(false);
    const writes = policy.Statement.find((statement: { Sid: string }) => statement.Sid === 'WriteJobRecords');
    expect(writes.Resource).toBe('acs:oss:*:*:yike-uploads/.yike-jobs/*');
  });
});
