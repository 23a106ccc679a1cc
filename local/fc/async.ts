import { randomUUID } from 'node:crypto';

/**
 * Local stand-in for FC's asynchronous invocation: the OSS trigger, EventBridge and async InvokeFunction
 * all hand the event to FC, which runs the handler, retries a failed run (maxAsyncRetryAttempts, with
 * context.retryCount counting up) and finally routes the outcome to onSuccess / onFailure destinations.
 */
export type AsyncHandler = (event: Buffer, context: Record<string, unknown>) => Promise<unknown>;

export interface AsyncInvokerOptions {
  handler: AsyncHandler;
  functionName: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** FC's default is 3 (0-8). */
  maxAsyncRetryAttempts?: number;
  /** Pause before each retry; FC backs off for seconds to minutes, locally it is short. */
  retryDelayMs?: number;
  timeoutSeconds?: number;
  region?: string;
  accountId?: string;
  log?: (line: Record<string, unknown>) => void;
}

export interface AsyncInvocationRecord {
  requestId: string;
  status: 'succeeded' | 'failed';
  attempts: number;
  /** What an onSuccess destination receives (the handler's return value). */
  result?: unknown;
  /** What an onFailure destination receives (the last error). */
  error?: { errorType: string; errorMessage: string };
}

export interface AsyncInvoker {
  /** Accepts the event at once (like FC's 202) and runs it in the background. */
  invoke(event: Buffer): { requestId: string; done: Promise<AsyncInvocationRecord> };
  records(): AsyncInvocationRecord[];
  /** Resolves when every accepted invocation has finished, retries included. */
  idle(): Promise<void>;
}

export function createAsyncInvoker(options: AsyncInvokerOptions): AsyncInvoker {
  const maxRetries = options.maxAsyncRetryAttempts ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 50;
  const finished: AsyncInvocationRecord[] = [];
  const pending = new Set<Promise<AsyncInvocationRecord>>();

  async function run(requestId: string, event: Buffer): Promise<AsyncInvocationRecord> {
    let lastError: { errorType: string; errorMessage: string } | undefined;
    for (let retryCount = 0; retryCount <= maxRetries; retryCount++) {
      if (retryCount > 0) await new Promise((resolve) => setTimeout(resolve, retryDelayMs * retryCount));
      const context = {
        requestId,
        credentials: { ...options.credentials },
        function: { name: options.functionName, handler: 'index.handler', memory: 512, timeout: options.timeoutSeconds ?? 60 },
        region: options.region ?? 'cn-shanghai',
        accountId: options.accountId ?? '1234567890123456',
        retryCount,
      };
      try {
        const result = await options.handler(event, context);
        options.log?.({ message: 'async invocation succeeded', requestId, function: options.functionName, attempt: retryCount + 1 });
        return { requestId, status: 'succeeded', attempts: retryCount + 1, result };
      } catch (error) {
        lastError = { errorType: (error as Error).name ?? 'Error', errorMessage: (error as Error).message ?? String(error) };
        options.log?.({
          message: 'async invocation failed',
          requestId,
          function: options.functionName,
          attempt: retryCount + 1,
          error: lastError.errorMessage,
        });
      }
    }
    return { requestId, status: 'failed', attempts: maxRetries + 1, error: lastError };
  }

  return {
    invoke(event) {
      const requestId = randomUUID();
      const done = run(requestId, event).then((record) => {
        finished.push(record);
        return record;
      });
      pending.add(done);
      void done.finally(() => pending.delete(done));
      return { requestId, done };
    },
    records: () => [...finished],
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
