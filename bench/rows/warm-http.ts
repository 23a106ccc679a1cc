import { LOCAL_STS_CREDENTIALS } from '../../local/dev-fixtures';
import { rawIceFetch } from '../lib/acs3-fetch';
import { loadHandler } from '../lib/handlers';
import { rawOssFetch } from '../lib/oss-fetch';
import { BENCH_BUCKET, BENCH_IMAGE_KEY, SAMPLES } from '../lib/samples';
import { percentile } from '../lib/stats';
import { atMost, info, type BenchModule } from '../lib/types';

const MAX_RATIO_TO_RAW_FETCHES = 1.5;
const WARM_UP = 30;
const RUNS = 300;
const ICE_VERSION = '2020-11-09';

/**
 * The round trips one POST /jobs {bucket, key} makes (no Idempotency-Key), in order: the image check (issue 10),
 * ICE's precheck (issue 9), the submit, then the job record and its in-flight marker (issue 8), those two in
 * parallel. The bench checks the handler still makes exactly these before timing anything.
 */
const EXPECTED_CALLS = [
  'OSS HEAD <image>',
  'ICE PrecheckYikeAIAppJob',
  'ICE SubmitYikeAIAppJob',
  'OSS PUT <records>jobs/<jobId>.json',
  'OSS PUT <records>inflight/<jobId>',
];

/**
 * Warm POST /jobs through the bundled handler, against the same round trips made with raw signed fetches (no
 * SDK, no validation, no logging), alternated call by call in this process so all see the same machine load:
 * the ratio is our overhead, not the number of round trips the other issues require. A raw fetch of the submit
 * alone is printed too, for scale.
 */
export const warmHttp: BenchModule = {
  name: 'warm-http',
  async run({ dist, ice, oss, runId, progress }) {
    const handler = loadHandler(dist, 'http-submit');
    const sample = SAMPLES['http-submit']!;
    // The requests the handler sends, read back from the stand-ins, so the baseline sends the same ones.
    const [ossBefore, iceBefore] = [oss.requests().length, ice.calls().length];
    const first = sample(runId, -1);
    first.check(await handler(first.event, first.context));
    const ossSent = oss
      .requests()
      .slice(ossBefore)
      .filter((request) => request.auth !== 'anonymous');
    // The ICE stand-in's precheck reads the image itself (as ICE does): not the function's round trip.
    const ossOwn = ossSent.filter((request) => !(request.method === 'GET' && request.key === BENCH_IMAGE_KEY));
    const iceSent = ice.calls().slice(iceBefore);
    const recordKey = ossOwn.find((request) => request.method === 'PUT' && /jobs\/[^/]+\.json$/.test(request.key ?? ''))?.key;
    const markerKey = ossOwn.find((request) => request.method === 'PUT' && /inflight\/[^/]+$/.test(request.key ?? ''))?.key;
    const seen = [
      ...ossOwn.filter((request) => request.method === 'HEAD').map((request) => `OSS HEAD ${request.key === BENCH_IMAGE_KEY ? '<image>' : request.key}`),
      ...iceSent.map((call) => `ICE ${call.action}`),
      ...(recordKey ? ['OSS PUT <records>jobs/<jobId>.json'] : []),
      ...(markerKey ? ['OSS PUT <records>inflight/<jobId>'] : []),
    ];
    if (JSON.stringify(seen) !== JSON.stringify(EXPECTED_CALLS) || ossOwn.length !== 3) {
      throw new Error(
        `POST /jobs made other round trips than the raw baseline copies: ${JSON.stringify(ossOwn.map((r) => `${r.method} ${r.key}`))} ${JSON.stringify(seen)}`,
      );
    }
    const precheckFields = iceSent[0]!.fields;
    const submitFields = iceSent[1]!.fields;
    const credentials = LOCAL_STS_CREDENTIALS;
    const ossCall = { endpoint: oss.url, bucket: BENCH_BUCKET, credentials };
    // The same bodies the handler wrote, read back, and written again under keys of the baseline's own.
    const recordBody = (await rawOssFetch({ ...ossCall, method: 'GET', key: recordKey! })).body;
    const markerBody = (await rawOssFetch({ ...ossCall, method: 'GET', key: markerKey! })).body;
    const recordsPrefix = recordKey!.slice(0, recordKey!.lastIndexOf('jobs/'));
    const json = { 'content-type': 'application/json' };

    const rawSequence = async (i: number) => {
      await rawOssFetch({ ...ossCall, method: 'HEAD', key: BENCH_IMAGE_KEY });
      await rawIceFetch({ endpoint: ice.url, action: 'PrecheckYikeAIAppJob', version: ICE_VERSION, body: precheckFields, credentials });
      await rawIceFetch({ endpoint: ice.url, action: 'SubmitYikeAIAppJob', version: ICE_VERSION, body: submitFields, credentials });
      await Promise.all([
        rawOssFetch({ ...ossCall, method: 'PUT', key: `${recordsPrefix}bench-raw/jobs/${runId}-${i}.json`, body: recordBody, headers: json }),
        rawOssFetch({ ...ossCall, method: 'PUT', key: `${recordsPrefix}bench-raw/inflight/${runId}-${i}`, body: markerBody, headers: json }),
      ]);
    };

    const handlerMs: number[] = [];
    const sequenceMs: number[] = [];
    const submitMs: number[] = [];
    progress(`warm POST /jobs: ${RUNS} handler calls, ${RUNS} raw sequences of the same ${EXPECTED_CALLS.length} requests and ${RUNS} raw submits, alternated`);
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      const invocation = sample(runId, i);
      let started = performance.now();
      const result = await handler(invocation.event, invocation.context);
      const handlerTime = performance.now() - started;
      invocation.check(result);
      started = performance.now();
      await rawSequence(i);
      const sequenceTime = performance.now() - started;
      started = performance.now();
      await rawIceFetch({ endpoint: ice.url, action: 'SubmitYikeAIAppJob', version: ICE_VERSION, body: submitFields, credentials });
      const submitTime = performance.now() - started;
      if (i >= WARM_UP) {
        handlerMs.push(handlerTime);
        sequenceMs.push(sequenceTime);
        submitMs.push(submitTime);
      }
    }
    const handlerP95 = percentile(handlerMs, 95);
    const sequenceP95 = percentile(sequenceMs, 95);
    const submitP95 = percentile(submitMs, 95);
    return [
      info(`http-submit: warm POST /jobs p95 (${RUNS} runs; p50 ${percentile(handlerMs, 50).toFixed(1)} ms)`, `${handlerP95.toFixed(1)} ms`, handlerP95, 'ms'),
      info(
        `raw signed fetches of the same round trips (HEAD, precheck, submit, job record || marker), p95 (p50 ${percentile(sequenceMs, 50).toFixed(1)} ms)`,
        `${sequenceP95.toFixed(1)} ms`,
        sequenceP95,
        'ms',
      ),
      atMost('http-submit: warm POST /jobs p95 / raw fetches of the same round trips p95', handlerP95 / sequenceP95, MAX_RATIO_TO_RAW_FETCHES, 'x', 2),
      info(`raw ACS3-signed fetch of the submit alone, p95 (p50 ${percentile(submitMs, 50).toFixed(1)} ms)`, `${submitP95.toFixed(1)} ms`, submitP95, 'ms'),
      info(
        'http-submit: warm POST /jobs p95 / the submit alone (for scale: 5 round trips against 1)',
        `${(handlerP95 / submitP95).toFixed(2)} x`,
        handlerP95 / submitP95,
        'x',
      ),
    ];
  },
};
