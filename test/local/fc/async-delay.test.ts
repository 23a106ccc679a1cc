import { randomUUID } from 'node:crypto';
import { ACS3_ALGORITHM, canonicalRequest, formatAcsDate, sha256Hex, sign, stringToSign } from '../../../local/acs3';
import { startFcInvokeServer, type LocalFcInvokeServer } from '../../../local/fc/invoke-server';
import { createFunctionInvoker } from '../../../shared/adapters/fc/invoke';
import { parseConfig } from '../../../shared/runtime/config';
import { LOCAL_CREDENTIALS } from '../../helpers/local-cloud';

/**
 * x-fc-async-delay on the local FC API, through the project's InvokeFunction adapter (openapi-client, ACS3): a delayed
 * async invocation runs once its delay is over (waited on a clock the test controls), at once when the stand-in
 * ignores the header (LOCAL_FC_IGNORE_ASYNC_DELAY=1), and a delay outside FC's documented (0, 3600) is refused.
 */
interface Gate {
  waits: number[];
  release(): void;
}

/** A delay the test releases by hand: the invocation cannot run before, whatever the machine's clock says. */
function gate(): Gate & { delay: (ms: number) => Promise<void> } {
  const waiting: (() => void)[] = [];
  const waits: number[] = [];
  return {
    waits,
    delay: (ms) =>
      new Promise<void>((resolve) => {
        waits.push(ms);
        waiting.push(resolve);
      }),
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

async function server(options: { ignoreAsyncDelay?: boolean; delay: (ms: number) => Promise<void> }) {
  const ran: string[] = [];
  const fc = await startFcInvokeServer({
    functions: {
      'yike-job-watcher': async (event) => {
        ran.push(event.toString('utf8'));
        return { ok: true };
      },
    },
    contextCredentials: { ...LOCAL_CREDENTIALS },
    ignoreAsyncDelay: options.ignoreAsyncDelay,
    asyncDelay: options.delay,
  });
  const invoker = createFunctionInvoker({ config: parseConfig({ FC_ENDPOINT: fc.url }).fc, credentials: () => ({ ...LOCAL_CREDENTIALS }) });
  return { fc, invoker, ran };
}

describe('the local FC API and x-fc-async-delay', () => {
  const started: LocalFcInvokeServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((fc) => fc.close()));
  });

  it('answers 202 at once and runs a delayed async invocation only when its delay is over', async () => {
    // Arrange
    const clock = gate();
    const { fc, invoker, ran } = await server({ delay: clock.delay });
    started.push(fc);

    // Act
    const { requestId } = await invoker.invokeAsync('yike-job-watcher', Buffer.from('{"yike":"watch-round"}'), { asyncDelaySeconds: 7 });

    // Assert: accepted and waiting 7 s, not run
    expect(fc.invocations().map(({ invocationType, asyncDelaySeconds, status }) => ({ invocationType, asyncDelaySeconds, status }))).toEqual([
      { invocationType: 'Async', asyncDelaySeconds: 7, status: 202 },
    ]);
    expect(clock.waits).toEqual([7_000]);
    expect(ran).toEqual([]);

    // Act: the delay is over
    clock.release();
    const record = await fc.settled(requestId);

    // Assert
    expect(record).toMatchObject({ status: 'succeeded', attempts: 1, result: { ok: true } });
    expect(ran).toEqual(['{"yike":"watch-round"}']);
  });

  it('runs a delayed invocation at once when told to ignore the header, still recording the delay it was sent with', async () => {
    // Arrange: a delay that never ends, which the stand-in must not wait for
    const clock = gate();
    const { fc, invoker, ran } = await server({ ignoreAsyncDelay: true, delay: clock.delay });
    started.push(fc);

    // Act
    const { requestId } = await invoker.invokeAsync('yike-job-watcher', Buffer.from('{"yike":"delay-probe"}'), { asyncDelaySeconds: 5 });
    await fc.settled(requestId);

    // Assert
    expect(fc.invocations()[0]!.asyncDelaySeconds).toBe(5);
    expect(clock.waits).toEqual([]);
    expect(ran).toEqual(['{"yike":"delay-probe"}']);
  });

  it('refuses x-fc-async-delay outside (0, 3600) or not whole seconds with 400 InvalidArgument, running nothing', async () => {
    // Arrange: requests signed as openapi-client signs them, with the header values our adapter never sends
    const clock = gate();
    const { fc, ran } = await server({ delay: clock.delay });
    started.push(fc);

    // Act
    const answers = await Promise.all(['0', '3600', '2.5', 'soon'].map((value) => signedAsyncInvoke(fc.url, value)));

    // Assert
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ Code: 'InvalidArgument' });
    }
    expect(fc.invocations()).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('is refused by the adapter before any request when the delay is not whole seconds from 1 to 3599', async () => {
    // Arrange
    const clock = gate();
    const { fc, invoker } = await server({ delay: clock.delay });
    started.push(fc);

    // Act / Assert
    for (const asyncDelaySeconds of [0, 3_600, 1.5]) {
      await expect(invoker.invokeAsync('yike-job-watcher', Buffer.from('{}'), { asyncDelaySeconds })).rejects.toMatchObject({ code: 'FC_INVALID_DELAY' });
    }
    expect(fc.invocations()).toEqual([]);
  });
});

/**
 * One async InvokeFunction with a raw x-fc-async-delay value, ACS3-signed with local/acs3.ts's steps (the adapter
 * refuses such values before sending them).
 */
async function signedAsyncInvoke(baseUrl: string, delay: string): Promise<{ status: number; body: unknown }> {
  const path = '/2023-03-30/functions/yike-job-watcher/invocations';
  const body = Buffer.from('{}');
  const headers: Record<string, string> = {
    host: new URL(baseUrl).host,
    'x-acs-action': 'InvokeFunction',
    'x-acs-version': '2023-03-30',
    'x-acs-date': formatAcsDate(new Date()),
    'x-acs-signature-nonce': randomUUID(),
    'x-acs-content-sha256': sha256Hex(body),
    'x-acs-security-token': LOCAL_CREDENTIALS.securityToken,
    'content-type': 'application/octet-stream',
  };
  const signed = Object.keys(headers).sort();
  const signature = sign(
    LOCAL_CREDENTIALS.accessKeySecret,
    stringToSign(canonicalRequest({ method: 'POST', path, query: {}, headers }, signed, sha256Hex(body))),
  );
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      ...headers,
      'x-fc-invocation-type': 'Async',
      'x-fc-async-delay': delay,
      authorization: `${ACS3_ALGORITHM} Credential=${LOCAL_CREDENTIALS.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`,
    },
    body,
  });
  return { status: response.status, body: await response.json() };
}
