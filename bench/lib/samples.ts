import { LOCAL_STS_CREDENTIALS } from '../../local/dev-fixtures';
import httpPostJobs from '../../test/fixtures/events/fc3-http-post-jobs.json';
import ossTriggerPut from '../../test/fixtures/events/oss-trigger-put.json';

/**
 * One typical invocation per function, as FC delivers it (payload bytes + context), and how to tell it worked.
 * A function without a sample still gets its size and module-load rows; add one here for the rest.
 */
export interface SampleInvocation {
  event: Buffer;
  context: Record<string, unknown>;
  /** Throws unless the result is the success this sample expects (a bench of failures measures nothing). */
  check(result: unknown): void;
}

export interface SampleOptions {
  /** http-submit: send an Idempotency-Key (adds the OSS record round trips). The fixture's bearer token is
   * `example-token`: the bench sets AUTH_TOKENS to it, as production should. */
  idempotencyKey?: boolean;
}

export const BENCH_BUCKET = 'yike-uploads';
/**
 * The one image every sample names: the HEAD check (POST /jobs) and ICE's precheck read it, so it must exist
 * (bench/run.ts puts it). Uploads still differ: the one-job rule is per bucket + key + eTag.
 */
export const BENCH_IMAGE_KEY = 'uploads/female/bench.png';

function context(requestId: string): Record<string, unknown> {
  return { requestId, credentials: { ...LOCAL_STS_CREDENTIALS }, function: { name: 'bench', timeout: 60 }, region: 'cn-shanghai' };
}

/** The same body POST /jobs gets: a female-app job for an object in the allowed bucket. */
function postJobsBody(key: string): string {
  return JSON.stringify({ app: 'female', image: { bucket: BENCH_BUCKET, key } });
}

/** The documented payloads (test/fixtures/events), with a fresh object per invocation. */
export const SAMPLES: Record<string, (runId: string, i: number, options?: SampleOptions) => SampleInvocation> = {
  'http-submit': (runId, i, options = {}) => {
    const event = structuredClone(httpPostJobs);
    event.body = postJobsBody(BENCH_IMAGE_KEY);
    event.requestContext.requestId = `${runId}-${i}`;
    if (options.idempotencyKey) (event.headers as Record<string, string>)['Idempotency-Key'] = `${runId}-${i}`;
    return {
      event: Buffer.from(JSON.stringify(event)),
      context: context(`${runId}-${i}`),
      check(result) {
        const status = (result as { statusCode?: number }).statusCode;
        if (status !== 202) throw new Error(`POST /jobs answered ${status}: ${(result as { body?: string }).body}`);
      },
    };
  },
  'oss-submit': (runId, i) => {
    const event = structuredClone(ossTriggerPut);
    const record = event.events[0]!;
    record.eventTime = new Date().toISOString();
    record.oss.object.key = BENCH_IMAGE_KEY;
    record.oss.object.eTag = `${runId}-${i}`.toUpperCase();
    return {
      event: Buffer.from(JSON.stringify(event)),
      context: context(`${runId}-${i}`),
      check(result) {
        const submitted = (result as { submitted?: unknown[] }).submitted?.length;
        if (submitted !== 1) throw new Error(`oss-submit submitted ${submitted} jobs: ${JSON.stringify(result)}`);
      },
    };
  },
};
