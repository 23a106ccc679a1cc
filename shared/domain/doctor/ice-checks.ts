import type { Config } from '../../runtime/config';
import type { YikeApp } from '../jobs/apps';
import type { IceActionProbe } from '../ports';
import { fail, pass, type DoctorCheck, type FunctionKind } from './report';

/**
 * ICE as the function's role sees it, with free calls only: each action the function needs is asked with a made-up
 * id (GetYikeAIAppJob, BatchGetYikeAIAppJob, GetYikeAssetMediaInfo, GetMediaInfo) or a made-up image (the precheck).
 * Any answer but a refusal of the caller (not found, Failed, an empty list) means the action is permitted; a RAM
 * denial (Forbidden.RAM, NoPermission: ICE's exact code is undocumented) names the missing action. The registrations
 * are not probed here (they would register something): the image-mode check makes them for real, free.
 */
const PROBE_ID = 'yike-doctor-probe-0000000000000000';

const ICE_ACTIONS_BY_KIND: Record<FunctionKind, readonly string[]> = {
  'oss-submit': ['PrecheckYikeAIAppJob', 'GetYikeAssetMediaInfo', 'GetMediaInfo'],
  'http-submit': ['PrecheckYikeAIAppJob', 'GetYikeAssetMediaInfo', 'GetMediaInfo', 'GetYikeAIAppJob'],
  'job-watcher': ['BatchGetYikeAIAppJob', 'GetYikeAIAppJob'],
  // It submits the deferred items when the day's budget renews: the submit functions' reads.
  'budget-renewal': ['PrecheckYikeAIAppJob', 'GetYikeAssetMediaInfo', 'GetMediaInfo'],
};

function probeFields(action: string, app: YikeApp): Record<string, string> {
  switch (action) {
    case 'BatchGetYikeAIAppJob':
      return { JobIds: PROBE_ID };
    case 'PrecheckYikeAIAppJob':
      return { AppId: app.appId, AppParams: JSON.stringify({ [app.imageParamKey]: PROBE_ID }) };
    case 'GetYikeAIAppJob':
      return { JobId: PROBE_ID };
    default:
      return { MediaId: PROBE_ID };
  }
}

type ProbeOutcome = 'permitted' | 'denied' | 'credentials' | 'unreachable';

interface ProbeResult {
  action: string;
  outcome: ProbeOutcome;
  code?: string;
  latencyMs: number;
}

const DENIED = /^(Forbidden|NoPermission)/;
const CREDENTIALS = /^(SignatureDoesNotMatch|IncompleteSignature|InvalidAccessKeyId|InvalidSecurityToken|MissingSecurityToken)/;
const UNREACHABLE = /^ICE_(TIMEOUT|CONNECTION_FAILED|CONNECTION_RESET|BAD_RESPONSE|UNAVAILABLE)$/;

function outcomeOf(error: unknown): { outcome: ProbeOutcome; code: string } {
  const code = String((error as { code?: unknown }).code ?? 'Error');
  if (DENIED.test(code)) return { outcome: 'denied', code };
  if (CREDENTIALS.test(code)) return { outcome: 'credentials', code };
  if (UNREACHABLE.test(code) || (error as { outcome?: string }).outcome !== 'rejected') return { outcome: 'unreachable', code };
  // ICE looked at the request and refused its made-up input (ResourceNotFound, InvalidParameter): it was authorized.
  return { outcome: 'permitted', code };
}

async function probeAll(kind: FunctionKind, app: YikeApp, probe: IceActionProbe): Promise<ProbeResult[]> {
  const results: ProbeResult[] = [];
  for (const action of ICE_ACTIONS_BY_KIND[kind]) {
    const started = Date.now();
    try {
      await probe(action, probeFields(action, app));
      results.push({ action, outcome: 'permitted', latencyMs: Date.now() - started });
    } catch (error) {
      results.push({ action, ...outcomeOf(error), latencyMs: Date.now() - started });
    }
  }
  return results;
}

/** `ice.endpoint` (ICE answers in ICE_REGION) and `ice.permissions` (each action the function needs). */
export async function iceChecks(kind: FunctionKind, config: Config, app: YikeApp, probe: IceActionProbe): Promise<DoctorCheck[]> {
  const results = await probeAll(kind, app, probe);
  const endpoint = `${config.ice.protocol}://${config.ice.endpoint}`;
  const answered = results.filter((result) => result.outcome !== 'unreachable');
  const endpointCheck = answered.length
    ? pass('ice.endpoint', 'ICE answers in ICE_REGION', `${endpoint} (${config.ice.region}) answered ${answered[0]!.action} in ${answered[0]!.latencyMs} ms`)
    : fail(
        'ice.endpoint',
        'ICE answers in ICE_REGION',
        `${endpoint} did not answer (${results[0]?.code ?? 'no call'})`,
        `ICE runs in ap-southeast-1, cn-beijing, cn-hangzhou, cn-shanghai, cn-shenzhen and us-west-1: set YIKE_REGION (ICE_REGION) to one of them, unset ICE_ENDPOINT unless you mean it, and give the function internet access (or use ice-vpc.<region>.aliyuncs.com inside a VPC)`,
      );
  const credentials = results.find((result) => result.outcome === 'credentials');
  const denied = results.filter((result) => result.outcome === 'denied');
  const title = 'ICE actions the function needs are permitted';
  let permissions: DoctorCheck;
  if (answered.length === 0) permissions = fail('ice.permissions', title, 'not known: ICE did not answer', 'fix the ICE endpoint first (line above)');
  else if (credentials) {
    permissions = fail(
      'ice.permissions',
      title,
      `ICE refused the role's credentials (${credentials.code} on ${credentials.action})`,
      "the function must run with its role's STS credentials: check the role in s.yaml and that nothing overrides ALIBABA_CLOUD_* in its environment",
    );
  } else if (denied.length > 0) {
    const actions = denied.map((result) => `ice:${result.action}`);
    permissions = fail(
      'ice.permissions',
      title,
      `denied: ${denied.map((result) => `ice:${result.action} (${result.code})`).join(', ')}`,
      `add ${actions.join(', ')} to the role's policy (npm run deploy grants every action the functions call: deploy/infrastructure.json)`,
    );
  } else {
    const checked = results.map((result) => `ice:${result.action}`).join(', ');
    permissions = pass('ice.permissions', title, `permitted: ${checked} (SubmitYikeAIAppJob is never tried: it is paid)`);
  }
  return [endpointCheck, permissions];
}
