import { createFunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { parseConfig } from '../../../shared/runtime/config';
import { LOCAL_CREDENTIALS } from '../../helpers/local-cloud';
import { startDoctorCloud, type DoctorCloud } from './harness';

/**
 * How the doctor is reached: a synchronous InvokeFunction that waits (replyBy), never an asynchronous one; GET /doctor
 * behind the bearer token; the CLI's exit codes and errors.
 */
describe('reaching the doctor', () => {
  let world: DoctorCloud;

  const invoker = () =>
    createFunctionInvoker({ config: parseConfig({ FC_ENDPOINT: world.cloud.fcApi.url }).fc, credentials: () => ({ ...LOCAL_CREDENTIALS }) });
  const payload = (event: object) => Buffer.from(JSON.stringify(event));
  const doctorWrites = () => world.cloud.oss.requests().filter((request) => request.key?.includes('/doctor/') || request.key?.includes('yike-doctor-probe'));

  beforeAll(async () => {
    world = await startDoctorCloud();
  });
  afterAll(() => world.close());

  it('runs nothing for an asynchronous InvokeFunction of {"yike":"doctor"}: each function succeeds with ran false, so FC neither retries nor reports it', async () => {
    // Arrange
    const names = ['yike-http-submit', 'yike-oss-submit', 'yike-job-watcher', 'yike-budget-renewal'];
    const iceCalls = world.cloud.ice.calls().length;
    const ossWrites = doctorWrites().length;

    // Act
    for (const name of names) await invoker().invokeAsync(name, payload({ yike: 'doctor' }));
    await world.cloud.fcApi.idle();

    // Assert
    for (const name of names) {
      expect(world.cloud.fcApi.asyncResults(name).map((record) => ({ status: record.status, attempts: record.attempts, result: record.result }))).toEqual([
        {
          status: 'succeeded',
          attempts: 1,
          result: {
            yike: 'doctor',
            ran: false,
            reason: 'no replyBy: the doctor runs only for a synchronous InvokeFunction that waits for it: npx yike-doctor (docs/doctor.md)',
          },
        },
      ]);
    }
    expect(world.cloud.ice.calls().slice(iceCalls)).toEqual([]);
    expect(doctorWrites().length).toBe(ossWrites);
  });

  it('runs nothing for a doctor event whose replyBy has passed, even synchronously', async () => {
    // Arrange
    const ossWrites = doctorWrites().length;

    // Act
    const answer = await invoker().invokeSync('yike-oss-submit', payload({ yike: 'doctor', replyBy: new Date(Date.now() - 1_000).toISOString() }));

    // Assert
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual({
      yike: 'doctor',
      ran: false,
      reason: expect.stringMatching(/^replyBy .+ has passed \(an asynchronous or late delivery\): the doctor runs only for a synchronous InvokeFunction/),
    });
    expect(doctorWrites().length).toBe(ossWrites);
  });

  it('answers GET /doctor only with the bearer token: 401 without it, the report with it', async () => {
    // Act
    const anonymous = await fetch(`${world.cloud.gateway.url}/doctor`);
    const authorized = await fetch(`${world.cloud.gateway.url}/doctor`, { headers: { Authorization: `Bearer ${world.cloud.token}` } });

    // Assert
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('"checks"');
    expect(authorized.status).toBe(200);
    expect(authorized.headers.get('cache-control')).toBe('no-store');
    const report = (await authorized.json()) as { yike: string; kind: string; checks: { id: string; status: string }[]; configuration: Record<string, string> };
    expect(report).toMatchObject({ yike: 'doctor', kind: 'http-submit', configuration: { AUTH_TOKENS: 'set' } });
    expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(JSON.stringify(report)).not.toContain(world.cloud.token!);
  });

  it('refuses GET /doctor?image= that is not oss://bucket/key with a 400 naming the field', async () => {
    // Act
    const response = await fetch(`${world.cloud.gateway.url}/doctor?image=https://example.com/a.jpg`, {
      headers: { Authorization: `Bearer ${world.cloud.token}` },
    });

    // Assert
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'INVALID_REQUEST', details: [{ path: 'image', message: 'must be oss://bucket/key' }] } });
  });

  it('checks the image given with --image instead of the newest upload', async () => {
    // Arrange
    await world.cloud.client.put('uploads/male/chosen.png', (await world.cloud.client.get('uploads/female/demo.png')).content, {
      headers: { 'Content-Type': 'image/png' },
    });

    // Act
    const { code, report } = await world.doctor(['--json', '--functions', 'yike-oss-submit', '--image', 'oss://yike-uploads/uploads/male/chosen.png']);

    // Assert
    expect(code).toBe(0);
    expect(report!.checks.find((check) => check.id === 'oss.image')!.detail).toBe('oss://yike-uploads/uploads/male/chosen.png: image/png, 70 bytes');
  }, 60_000);

  it('exits 1 with the missing function’s line and its fix when a function is not deployed', async () => {
    // Act
    const { code, report } = await world.doctor(['--json', '--functions', 'yike-oss-submit,yike-nope']);

    // Assert
    expect(code).toBe(1);
    expect(report!.checks.filter((check) => check.status === 'fail')).toEqual([
      {
        id: 'deploy.function',
        title: 'the function is deployed',
        status: 'fail',
        required: true,
        detail: 'yike-nope does not exist',
        fix: 'npx s deploy (or npx s <resource> deploy), with the same YIKE_REGION',
        functionName: 'yike-nope',
      },
    ]);
  }, 60_000);

  it('exits 1 with a one-line error naming the flag for a bad argument, and 0 for --help', async () => {
    // Act
    const bad = await world.doctor(['--image', 'https://example.com/a.jpg']);
    const help = await world.doctor(['--help']);

    // Assert
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toBe('yike-doctor: INVALID_ARGUMENTS: --image: oss://bucket/key (see --help)\n');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('submit: not tried, it is paid');
  });
});
