import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenDigest } from '../../../cli/deploy/answers';
import type { DeployDependencies } from '../../../cli/deploy/run';
import { serverlessDevs, type Rendered } from '../../../cli/deploy/serverless';
import { createStackApi } from '../../../cli/deploy/stack';
import { main } from '../../../cli/yike-deploy';
import { LOCAL_STS_CREDENTIALS } from '../../../local/dev-fixtures';
import { startRosServer, type LocalRosServer } from '../../../local/ros/server';
import { runCli, tempDir } from '../../helpers/local-cloud';

/**
 * `npm run deploy` end to end on this machine: the real ROS client against the local ROS, the real `s preview`
 * (offline), and a Serverless Devs whose deploy and remove only record what they were called with (they download the
 * fc3 component from its registry, which nothing here reaches).
 */
const ROOT = join(__dirname, '..', '..', '..');
const ACCOUNT = '1234567890123456';
const GUIDED_REPLIES = ['', ACCOUNT, 'my-yike-uploads', 'https://yike.example.com', '', '-', 'n'];

interface World {
  deps: DeployDependencies;
  output: () => string;
  deployed: { template: string; variables: Record<string, string> }[];
  removed: { template: string; variables: Record<string, string> }[];
  rendered: Rendered[];
  emptied: string[];
  ask: (question: string, fallback: string) => Promise<string>;
  replies: string[];
}

describe('npm run deploy (cli/yike-deploy.ts)', () => {
  let ros: LocalRosServer;
  let clone: ReturnType<typeof tempDir>;
  let home: ReturnType<typeof tempDir>;
  let world: World;

  function makeWorld(env: NodeJS.ProcessEnv = {}, preview?: (template: string, variables: Record<string, string>) => Promise<Rendered>): World {
    const lines: string[] = [];
    const real = serverlessDevs(ROOT, { PATH: process.env.PATH, HOME: home.path }, () => undefined);
    const made: World = {
      deployed: [],
      removed: [],
      rendered: [],
      emptied: [],
      replies: [],
      output: () => lines.join(''),
      ask: async () => made.replies.shift() ?? '',
      deps: {
        root: clone.path,
        env: {
          ALIBABA_CLOUD_ACCESS_KEY_ID: LOCAL_STS_CREDENTIALS.accessKeyId,
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: LOCAL_STS_CREDENTIALS.accessKeySecret,
          ALIBABA_CLOUD_SECURITY_TOKEN: LOCAL_STS_CREDENTIALS.securityToken,
          ...env,
        },
        out: (text) => lines.push(text),
        serverless: {
          preview: async (template, variables) => {
            const rendered = await (preview ?? real.preview)(template, variables);
            made.rendered.push(rendered);
            return rendered;
          },
          deploy: async (template, variables) => void made.deployed.push({ template, variables }),
          remove: async (template, variables) => void made.removed.push({ template, variables }),
        },
        stackApi: (region, credentials) =>
          createStackApi({ region, credentials, endpoint: { endpoint: ros.endpoint, protocol: 'http' }, sleep: async () => undefined }),
        emptyBucket: async (bucket) => {
          made.emptied.push(bucket);
          return 3;
        },
      },
    };
    return made;
  }

  const guided = async (replies = GUIDED_REPLIES, argv: string[] = []) => {
    world.replies = [...replies];
    return main(['--guided', ...argv], world.deps, world.ask);
  };
  const savedToken = () => readFileSync(join(clone.path, '.yike', 'token'), 'utf8').trim();
  const savedAnswers = () => JSON.parse(readFileSync(join(clone.path, '.yike', 'deploy.json'), 'utf8'));

  beforeEach(async () => {
    ros = await startRosServer({ accountId: ACCOUNT });
    clone = tempDir('deploy-clone-');
    home = tempDir('deploy-home-');
    world = makeWorld();
  });
  afterEach(async () => {
    await ros.close();
    clone.remove();
    home.remove();
  });

  it('--guided saves the answers, makes a token shown once and readable by you only, creates the stack, then s deploy with its outputs and the token digest', async () => {
    // Act
    const code = await guided();

    // Assert
    const token = savedToken();
    expect(code).toBe(0);
    expect(savedAnswers()).toEqual({
      region: 'cn-shanghai',
      accountId: ACCOUNT,
      bucket: 'my-yike-uploads',
      pageOrigin: 'https://yike.example.com',
      budget: 100,
      eventBridge: false,
      stackId: ros.stacks()[0]!.stackId,
    });
    expect(statSync(join(clone.path, '.yike', 'token')).mode & 0o777).toBe(0o600);
    // The upload tickets' key: made once, kept beside the token (readable by you only), never printed.
    const ticketSecret = readFileSync(join(clone.path, '.yike', 'ticket-secret'), 'utf8').trim();
    expect(Buffer.from(ticketSecret, 'base64')).toHaveLength(32);
    expect(statSync(join(clone.path, '.yike', 'ticket-secret')).mode & 0o777).toBe(0o600);
    expect(world.output()).not.toContain(ticketSecret);
    expect(world.output().split(token).length - 1).toBe(1);
    expect(ros.calls().map((call) => call.action)).toEqual(['ListStacks', 'CreateStack', 'GetStack', 'GetStack']);
    expect(world.deployed).toEqual([
      {
        template: 's.yaml',
        variables: {
          YIKE_REGION: 'cn-shanghai',
          YIKE_ACCOUNT_ID: ACCOUNT,
          YIKE_UPLOAD_BUCKET: 'my-yike-uploads',
          YIKE_AUTH_TOKENS: tokenDigest(token),
          YIKE_JOB_BUDGET_PER_DAY: '100',
          YIKE_JOB_NEXT_FUNCTION: '',
          YIKE_ROLE_ARN: `acs:ram::${ACCOUNT}:role/yike-fc-role`,
          YIKE_OSS_TRIGGER_ROLE_ARN: `acs:ram::${ACCOUNT}:role/yike-oss-trigger-role`,
          YIKE_SUBMITTED_QUEUE_ARN: `acs:mns:cn-shanghai:${ACCOUNT}:/queues/yike-jobs-submitted`,
          YIKE_FAILED_QUEUE_ARN: `acs:mns:cn-shanghai:${ACCOUNT}:/queues/yike-jobs-failed`,
          YIKE_TICKET_SECRET: ticketSecret,
        },
      },
    ]);
    expect(world.rendered.at(-1)!['http-submit']!.environmentVariables!.TICKET_SECRET).toBe(ticketSecret);
    // No function's environment holds the token: each gets its sha256 form.
    const rendered = world.rendered.at(-1)!;
    expect(JSON.stringify(rendered)).not.toContain(token);
    for (const props of Object.values(rendered)) {
      if (props.environmentVariables?.AUTH_TOKENS !== undefined) expect(props.environmentVariables.AUTH_TOKENS).toBe(tokenDigest(token));
    }
    expect(rendered['oss-submit']!.triggers![0]!.invocationRole).toBe(`acs:ram::${ACCOUNT}:role/yike-oss-trigger-role`);
    expect(Object.keys(rendered)).toEqual(['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal']);
  }, 120_000);

  it('a later npm run deploy reuses the answers and the token: the stack is found up to date, s deploy runs again, the token is not shown again', async () => {
    // Arrange
    await guided();
    const token = savedToken();
    world = makeWorld();

    // Act
    await main([], world.deps);

    // Assert
    expect(world.output()).toContain('is up to date');
    expect(world.output()).not.toContain(token);
    expect(world.deployed.map((deploy) => deploy.variables.YIKE_AUTH_TOKENS)).toEqual([tokenDigest(token)]);
    expect(ros.stacks()).toHaveLength(1);
  }, 120_000);

  it('gives a deploy without a budget said 100 a day, out loud; --budget none is said out loud and renders no limit', async () => {
    // Arrange
    await main(['--dry-run', '--account-id', ACCOUNT, '--bucket', 'my-yike-uploads'], world.deps);
    const byDefault = world.output();
    world = makeWorld();

    // Act
    await main(['--dry-run', '--account-id', ACCOUNT, '--bucket', 'my-yike-uploads', '--budget', 'none'], world.deps);

    // Assert
    expect(byDefault).toContain('Daily budget: 100 paid jobs a day (the default; --budget N or --budget none to say otherwise).');
    expect(world.output()).toContain('Daily budget: NONE. Every accepted job is paid, with no daily limit (you said --budget none).');
    expect(world.rendered[0]!['oss-submit']!.environmentVariables!.JOB_BUDGET_PER_DAY).toBe('');
  }, 120_000);

  it('refuses a budget that is neither a number nor none', async () => {
    await expect(main(['--dry-run', '--budget', 'lots'], world.deps)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
      message: expect.stringContaining('--budget'),
    });
  });

  it('stops without an account id, naming what to set, before anything is rendered or created', async () => {
    // Act
    const dry = main(['--dry-run', '--bucket', 'my-yike-uploads'], world.deps);
    const deploy = main(['--bucket', 'my-yike-uploads'], world.deps);

    // Assert
    await expect(dry).rejects.toMatchObject({ code: 'ACCOUNT_ID_MISSING', message: expect.stringContaining('set YIKE_ACCOUNT_ID, pass --account-id') });
    await expect(deploy).rejects.toMatchObject({ code: 'NOT_CONFIGURED' });
    expect({ rendered: world.rendered.length, ros: ros.calls().length }).toEqual({ rendered: 0, ros: 0 });
  });

  it('stops when s.yaml leaves an expression unresolved, naming what to set, before the stack is created', async () => {
    // Arrange: s preview as it renders without YIKE_ACCOUNT_ID and without `s config add`
    const real = serverlessDevs(ROOT, { PATH: process.env.PATH, HOME: home.path }, () => undefined);
    world = makeWorld({}, (template, variables) =>
      real.preview(template, (({ YIKE_ACCOUNT_ID: _, YIKE_ROLE_ARN: __, YIKE_OSS_TRIGGER_ROLE_ARN: ___, ...rest }) => rest)(variables)),
    );

    // Act
    const deploying = guided();

    // Assert
    await expect(deploying).rejects.toMatchObject({ code: 'UNRESOLVED_VARIABLES', message: expect.stringContaining(`$\{config('AccountID')}`) });
    await expect(deploying).rejects.toMatchObject({ message: expect.stringContaining('set YIKE_ACCOUNT_ID') });
    expect(ros.calls().map((call) => call.action)).toEqual([]);
  }, 120_000);

  it('--remove runs s remove and deletes the stack, keeping the bucket and its objects', async () => {
    // Arrange
    await guided();
    world = makeWorld();

    // Act
    await main(['--remove'], world.deps);

    // Assert
    expect(world.removed.map((remove) => remove.template)).toEqual(['s.yaml']);
    const deletion = ros.calls().find((call) => call.action === 'DeleteStack')!;
    expect(deletion.fields).toMatchObject({ 'RetainResources.1': 'UploadBucket' });
    expect(world.emptied).toEqual([]);
    expect(world.output()).toContain('Kept: the bucket my-yike-uploads and its objects');
    expect(savedAnswers().stackId).toBeUndefined();
    expect(ros.stacks()[0]!.deleted).toBe(true);
  }, 120_000);

  it('--remove --delete-objects empties the bucket and deletes it with the stack', async () => {
    // Arrange
    await guided();
    world = makeWorld();

    // Act
    await main(['--remove', '--delete-objects'], world.deps);

    // Assert
    expect(world.emptied).toEqual(['my-yike-uploads']);
    const deletion = ros.calls().find((call) => call.action === 'DeleteStack')!;
    expect(Object.keys(deletion.fields).filter((name) => name.startsWith('RetainResources'))).toEqual([]);
    expect(ros.stacks()[0]!.retained).toEqual([]);
  }, 120_000);
});

describe('npm run deploy -- --dry-run, as a user runs it (the bundle, in a clone with a token)', () => {
  it('prints the stack, the policy and every function, offline, and no plain token anywhere', async () => {
    // Arrange: a clone whose first deploy made a token
    const clone = tempDir('dry-run-clone-');
    const home = tempDir('dry-run-home-');
    const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';
    mkdirSync(join(clone.path, '.yike'));
    writeFileSync(join(clone.path, '.yike', 'token'), `${token}\n`, { mode: 0o600 });
    try {
      // Act
      const result = await runCli(
        join(ROOT, 'dist', 'cli', 'yike-deploy.js'),
        ['--dry-run', '--account-id', '123456789012', '--bucket', 'my-yike-uploads'],
        {
          HOME: home.path,
        },
        { cwd: clone.path },
      );

      // Assert
      expect(result.code).toBe(0);
      expect(`${result.stdout}${result.stderr}`).not.toContain(token);
      expect(result.stdout).toContain(`AUTH_TOKENS=${tokenDigest(token)}`);
      for (const name of ['yike-http-submit', 'yike-oss-submit', 'yike-job-watcher', 'yike-budget-renewal'])
        expect(result.stdout).toContain(`  ${name}: nodejs20`);
      expect(result.stdout).toContain('"Version": "1"');
      expect(result.stdout).toContain('UploadBucket         ALIYUN::OSS::Bucket');
    } finally {
      clone.remove();
      home.remove();
    }
  }, 120_000);
});
