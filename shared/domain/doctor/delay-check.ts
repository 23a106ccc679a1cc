import { randomBytes } from 'node:crypto';
import type { Config } from '../../runtime/config';
import { sleep as realSleep } from '../../runtime/retry';
import { DELAY_PROBE_EVENT, delayProbeKey, type DelayProbe, type DelayProbeArrival } from '../lifecycle/delay-probe';
import type { FunctionInvoker, RecordStoreFor } from '../ports';
import { fail, notice, pass, skip, type DoctorCheck } from './report';

/**
 * Whether FC honours x-fc-async-delay, which the watcher's rounds stand on (docs/lifecycle.md#rounds), checked by the
 * watcher itself with its own role: it invokes its own function asynchronously with `{"yike":"delay-probe",…}` and a
 * delay of DELAY_PROBE_SECONDS, and reads the marker the probe's run writes when it arrives (delay-probe.ts): arrived
 * about that much later ✔; arrived at once (the delay ignored, as a support answer said FC 3.0 once did) or never ✖.
 * The second is not required: rounds that arrive early wait and then sleep between rounds, which costs what rounds cost
 * before. An invoke the role may not make is required: without it no round is ever scheduled. No ICE call is made.
 */
const DELAY_PROBE_SECONDS = 5;
/** A delayed invocation arrives this much sooner at most and still counts as delayed (FC's seconds are whole). */
const ON_TIME_SLACK_MS = 1_000;
/** How long the doctor waits for the probe (FC's async queue adds its own latency to the delay). */
const ARRIVAL_WAIT_MS = 20_000;
const POLL_MS = 500;

const ID = 'fc.async-delay';
const TITLE = "FC delays the watcher's own invocations (x-fc-async-delay: its rounds)";

export interface DelayCheckDependencies {
  config: Config;
  /** The watcher's own function and the client that invokes it; undefined without an FC endpoint. */
  self?: { functionName: string; invoker: FunctionInvoker };
  recordStore: RecordStoreFor;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export async function delayCheck(deps: DelayCheckDependencies): Promise<DoctorCheck> {
  const { config, self } = deps;
  const bucket = config.lifecycle.watchBuckets[0];
  if (!bucket) return skip(ID, TITLE, 'no records bucket (see the configuration line)');
  if (!self) {
    return notice(
      ID,
      TITLE,
      'no FC endpoint to invoke itself: each run sleeps between its rounds (billed)',
      'run the watcher on FC (its context names its account) or set FC_ENDPOINT',
    );
  }
  const probe: DelayProbe = {
    yike: DELAY_PROBE_EVENT,
    id: `${deps.now().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`,
    sentAt: deps.now().toISOString(),
    delaySeconds: DELAY_PROBE_SECONDS,
  };
  try {
    await self.invoker.invokeAsync(self.functionName, Buffer.from(JSON.stringify(probe)), { asyncDelaySeconds: DELAY_PROBE_SECONDS });
  } catch (error) {
    return fail(
      ID,
      TITLE,
      `${self.functionName} could not invoke itself (${(error as { code?: string }).code ?? 'Error'}): no round is ever scheduled, the timer alone polls (once a minute)`,
      `grant the role fc:InvokeFunction on its own function, acs:fc:${config.fc.region}:<account>:functions/${self.functionName} (the role policy npm run deploy builds grants it; shared/adapters/fc/permissions.ts)`,
    );
  }
  const store = deps.recordStore(bucket);
  const key = delayProbeKey(config.records.prefix, probe.id);
  const sleep = deps.sleep ?? realSleep;
  for (let waited = 0; waited <= ARRIVAL_WAIT_MS; waited += POLL_MS) {
    const arrival = await store.get<DelayProbeArrival>(key);
    if (arrival) return verdict(arrival);
    await sleep(POLL_MS);
  }
  return notice(
    ID,
    TITLE,
    `a probe invoked with a ${DELAY_PROBE_SECONDS} s delay did not arrive within ${ARRIVAL_WAIT_MS / 1000} s (marker ${bucket}/${key})`,
    "see the watcher's log for 'delay probe arrived'; FC's async queue may be slow, run the doctor again",
  );
}

function verdict(arrival: DelayProbeArrival): DoctorCheck {
  const afterMs = Date.parse(arrival.arrivedAt) - Date.parse(arrival.sentAt);
  const seen = `a probe invoked with a ${arrival.delaySeconds} s delay arrived ${(afterMs / 1000).toFixed(1)} s later`;
  if (afterMs >= arrival.delaySeconds * 1000 - ON_TIME_SLACK_MS) return pass(ID, TITLE, `${seen}: rounds are scheduled, not slept`);
  return notice(
    ID,
    TITLE,
    `${seen}: FC ignored x-fc-async-delay; each scheduled round arrives early, waits and sleeps between rounds (billed as before)`,
    'nothing breaks, it costs what sleeping rounds cost (docs/performance.md#what-a-deployment-costs); tell Alibaba Cloud support FC 3.0 ignored x-fc-async-delay',
  );
}
