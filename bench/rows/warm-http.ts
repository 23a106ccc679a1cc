import { LOCAL_STS_CREDENTIALS } from '../../local/dev-fixtures';
import { rawIceFetch } from '../lib/acs3-fetch';
import { loadHandler } from '../lib/handlers';
import { SAMPLES } from '../lib/samples';
import { percentile } from '../lib/stats';
import { atMost, info, type BenchModule } from '../lib/types';

const MAX_RATIO_TO_RAW_FETCH = 1.5;
const WARM_UP = 30;
const RUNS = 300;

/**
 * Warm POST /jobs (no Idempotency-Key: one ICE call) through the bundled handler, against a raw signed fetch
 * of the same SubmitYikeAIAppJob, alternated call by call in this process so both see the same machine load.
 */
export const warmHttp: BenchModule = {
  name: 'warm-http',
  async run({ dist, ice, runId, progress }) {
    const handler = loadHandler(dist, 'http-submit');
    const sample = SAMPLES['http-submit']!;
    // The request the handler sends, read back from the ICE endpoint, so the baseline sends the same fields.
    const first = sample(runId, -1);
    first.check(await handler(first.event, first.context));
    const sent = ice.calls().at(-1);
    if (!sent || sent.action !== 'SubmitYikeAIAppJob') throw new Error('POST /jobs did not reach ICE');
    const version = sent.version ?? '2020-11-09';
    const fields = { ...sent.fields };

    const handlerMs: number[] = [];
    const rawMs: number[] = [];
    progress(`warm POST /jobs: ${RUNS} handler calls and ${RUNS} raw fetches, alternated`);
    for (let i = 0; i < WARM_UP + RUNS; i++) {
      const invocation = sample(runId, i);
      let started = performance.now();
      const result = await handler(invocation.event, invocation.context);
      const handlerTime = performance.now() - started;
      invocation.check(result);
      started = performance.now();
      await rawIceFetch({
        endpoint: ice.url,
        action: 'SubmitYikeAIAppJob',
        version,
        body: fields,
        credentials: LOCAL_STS_CREDENTIALS,
      });
      const rawTime = performance.now() - started;
      if (i >= WARM_UP) {
        handlerMs.push(handlerTime);
        rawMs.push(rawTime);
      }
    }
    const handlerP95 = percentile(handlerMs, 95);
    const rawP95 = percentile(rawMs, 95);
    return [
      info(`http-submit: warm POST /jobs p95 (${RUNS} runs; p50 ${percentile(handlerMs, 50).toFixed(1)} ms)`, `${handlerP95.toFixed(1)} ms`, handlerP95, 'ms'),
      info(`raw ACS3-signed fetch of the same ICE submit, p95 (p50 ${percentile(rawMs, 50).toFixed(1)} ms)`, `${rawP95.toFixed(1)} ms`, rawP95, 'ms'),
      atMost('http-submit: warm POST /jobs p95 / raw fetch p95', handlerP95 / rawP95, MAX_RATIO_TO_RAW_FETCH, 'x', 2),
    ];
  },
};
