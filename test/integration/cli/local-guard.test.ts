import { join } from 'node:path';
import { envTypos } from '../../../cli/env-typos';
import { runCli } from '../../helpers/local-cloud';

/**
 * No fall-through to the real cloud: every tool first names a variable that is one edit away from one it reads (before
 * anything else it prints, its errors included), and a local command (`--local`, the local cloud's credentials, or a
 * loopback endpoint given) refuses, before any call, to send anything to an aliyuncs.com host.
 */
const BIN = join(__dirname, '..', '..', '..', 'bin');
const tool = (name: string) => join(BIN, `${name}.js`);
/** Credentials that are not the local cloud's: what a user with a real account has exported. */
const REAL_LOOKING = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tExampleRealKey',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'example-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: '',
};

describe('environment typos', () => {
  it.each([
    ['two letters swapped', 'OSS_ENDPIONT', 'OSS_ENDPOINT'],
    ['a letter missing', 'ICE_ENDPONT', 'ICE_ENDPOINT'],
    ['a letter too many', 'RECORDS_BUCKETT', 'RECORDS_BUCKET'],
    ['a letter changed', 'LOCAL_OSS_PART', 'LOCAL_OSS_PORT'],
    ['lower case', 'fc_endpoint', 'FC_ENDPOINT'],
    ['a credential', 'ALIBABA_CLOUD_ACCESS_KEY_SECRT', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
  ])('finds %s (%s: did you mean %s?)', (_case, name, meant) => {
    expect(envTypos({ [name]: 'x' })).toEqual([{ name, meant }]);
  });

  it('says nothing of the variables the tools read, of removed ones, or of unrelated ones', () => {
    expect(
      envTypos({ OSS_ENDPOINT: 'x', LOCAL_OSS_PORT: '1', RECORDS_PREFIX: 'x', PATH: '/bin', HOME: '/root', NODE_EXTRA_CA_CERTS: 'x', TERM: 'xterm' }),
    ).toEqual([]);
  });

  it('is the first thing a tool prints, before its own error', async () => {
    // Act: a typo of the OSS endpoint, and no --image
    const result = await runCli(tool('yike-submit'), ['--app', 'female'], { OSS_ENDPIONT: 'http://localhost:9200' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'yike-submit: warning: OSS_ENDPIONT is set but nothing reads it: did you mean OSS_ENDPOINT?\nyike-submit: IMAGE_REQUIRED: --image is required (see --help)\n',
    });
  });
});

describe('local commands refuse the real cloud', () => {
  it('stops the printed yike-jobs list whose OSS_ENDPOINT is misspelt, instead of reading the real bucket (no agent dump)', async () => {
    // Act: the local credentials (as npm start prints them) and a typo
    const result = await runCli(tool('yike-jobs'), ['list'], { OSS_ENDPIONT: 'http://localhost:9200', RECORDS_BUCKET: 'yike-uploads' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        'yike-jobs: warning: OSS_ENDPIONT is set but nothing reads it: did you mean OSS_ENDPOINT?',
        "yike-jobs: LOCAL_ONLY: yike-jobs runs with the local cloud's credentials, so it sends nothing to the real cloud, but OSS_ENDPOINT is yike-uploads.oss-cn-shanghai.aliyuncs.com: set OSS_ENDPOINT to the local cloud's (npm start prints them)",
        '',
      ].join('\n'),
    });
  });

  it('stops yike-submit given a local OSS endpoint whose ICE_ENDPOINT is misspelt, even with real credentials: no paid job in the real account', async () => {
    // Act
    const result = await runCli(tool('yike-submit'), ['--image', 'oss://yike-uploads/uploads/female/a.png', '--app', 'female'], {
      ...REAL_LOOKING,
      ICE_ENDPIONT: 'http://127.0.0.1:9100',
      OSS_ENDPOINT: 'http://localhost:9200',
    });

    // Assert
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'yike-submit: warning: ICE_ENDPIONT is set but nothing reads it: did you mean ICE_ENDPOINT?\n' +
        "yike-submit: LOCAL_ONLY: yike-submit is given a local endpoint, so it sends nothing to the real cloud, but ICE_ENDPOINT is ice.cn-shanghai.aliyuncs.com: set ICE_ENDPOINT to the local cloud's (npm start prints them)\n",
    );
  });

  it('stops yike-doctor --local whose OSS_ENDPOINT is the real cloud', async () => {
    // Act
    const result = await runCli(tool('yike-doctor'), ['--local'], { OSS_ENDPOINT: 'https://oss-cn-shanghai.aliyuncs.com' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "yike-doctor: LOCAL_ONLY: yike-doctor checks the local cloud (--local), so it sends nothing to the real cloud, but OSS_ENDPOINT is oss-cn-shanghai.aliyuncs.com: set OSS_ENDPOINT to the local cloud's (npm start prints them)\n",
    });
  });

  it('stops yike-backfill --local (the function run here) whose ICE endpoint is left to the real one', async () => {
    // Act
    const result = await runCli(tool('yike-backfill'), ['--bucket', 'yike-uploads', '--local'], { ...REAL_LOOKING, OSS_ENDPOINT: 'http://localhost:9200' });

    // Assert
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "yike-backfill: LOCAL_ONLY: yike-backfill runs the function here (--local), so it sends nothing to the real cloud, but ICE_ENDPOINT is ice.cn-shanghai.aliyuncs.com: set ICE_ENDPOINT to the local cloud's (npm start prints them)\n",
    });
  });

  it('lets a tool with real credentials and no local endpoint reach the real cloud as before (here: refused by the missing bucket, not by the guard)', async () => {
    // Act
    const result = await runCli(tool('yike-jobs'), ['list'], REAL_LOOKING);

    // Assert
    expect(result.stderr).not.toContain('LOCAL_ONLY');
    expect(result.stderr).toMatch(/^yike-jobs: [A-Z_]+: .*RECORDS_BUCKET/);
  });
});
