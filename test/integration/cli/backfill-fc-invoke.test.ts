import { createServer } from 'node:net';
import { createFunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { LOCAL_CREDENTIALS } from '../../helpers/local-cloud';
import { FUNCTION_NAME, REGION, SLOW_TEST_MS, startBackfillHarness, type BackfillHarness } from './backfill-harness';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('yike-backfill against local OSS, a local FC invoke endpoint and local ICE: the FC invoke endpoint', () => {
  let cloud: BackfillHarness;

  beforeAll(async () => {
    cloud = await startBackfillHarness({});
  }, SLOW_TEST_MS);
  afterAll(async () => cloud?.close());

  it('rejects a request signed with the wrong secret with the ACS3 verdict, and runs nothing', async () => {
    // Arrange
    const wrong = createFunctionInvoker({ config: cloud.config.fc, credentials: () => ({ ...LOCAL_CREDENTIALS, accessKeySecret: 'not-the-secret' }) });
    const before = cloud.fc.invocations().length;

    // Act
    const error = await wrong.invokeAsync(FUNCTION_NAME, Buffer.from('{}')).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({
      name: 'FcInvokeError',
      code: 'SignatureDoesNotMatch',
      statusCode: 400,
      outcome: 'rejected',
      retryable: false,
      attempts: 1,
    });
    expect(cloud.fc.invocations()).toHaveLength(before);
  });

  it('answers 404 FunctionNotFound for a function the account does not have', async () => {
    // Act
    const error = await cloud.invoker.invokeAsync('no-such-function', Buffer.from('{}')).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'FunctionNotFound', statusCode: 404, retryable: false });
    expect((error as { requestId?: string }).requestId).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  it('runs a sync invocation and returns the result, or the function error with x-fc-error-type', async () => {
    // Act
    const ok = await cloud.invoker.invokeSync('echo', Buffer.from('{"hello":"world"}'), { qualifier: 'LATEST' });
    const failed = await cloud.invoker.invokeSync('broken', Buffer.from('{}'));

    // Assert
    expect(ok).toMatchObject({ statusCode: 200, errorType: undefined });
    expect(JSON.parse(ok.body.toString('utf8'))).toEqual({ hello: 'world' });
    expect(cloud.fc.invocations().find((invocation) => invocation.functionName === 'echo')).toMatchObject({ qualifier: 'LATEST', invocationType: 'Sync' });
    expect(failed).toMatchObject({ statusCode: 200, errorType: 'UnhandledInvocationError' });
    expect(JSON.parse(failed.body.toString('utf8'))).toMatchObject({ errorMessage: 'boom', errorType: 'TypeError' });
  });

  it('retries an invocation that could not be sent, with backoff, then reports it', async () => {
    // Arrange
    const port = await closedPort();
    const retries: number[] = [];
    const unreachable = createFunctionInvoker({
      config: { ...cloud.config.fc, endpoint: `127.0.0.1:${port}`, protocol: 'http' },
      credentials: () => LOCAL_CREDENTIALS,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: ({ attempt }) => retries.push(attempt),
    });

    // Act
    const error = await unreachable.invokeAsync(FUNCTION_NAME, Buffer.from('{}')).catch((caught: unknown) => caught);

    // Assert
    expect(error).toMatchObject({ code: 'FC_CONNECTION_FAILED', outcome: 'not-sent', attempts: 3 });
    expect(retries).toEqual([1, 2]);
  });

  it('says which variables to set when no FC endpoint is configured', () => {
    // Act
    const create = () => createFunctionInvoker({ config: { region: REGION, protocol: 'https' }, credentials: () => LOCAL_CREDENTIALS });

    // Assert
    expect(create).toThrow(expect.objectContaining({ code: 'FC_CONFIG_MISSING', message: expect.stringMatching(/FC_ACCOUNT_ID.*FC_ENDPOINT/) }));
  });
});
