import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { createHandler as createOssHandler } from '../../functions/oss-submit/index';
import { LOCAL_STS_CREDENTIALS, TINY_PNG } from '../../local/dev-fixtures';
import type { AcceptedForm } from '../../local/ice/acceptance';
import { startIceServer, type ReceivedCall } from '../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { imageModeFindingKey } from '../../shared/domain/images/image-modes/findings';
import type { ImageForm } from '../../shared/runtime/env';
import ossTriggerPut from '../../test/fixtures/events/oss-trigger-put.json';
import { info, type BenchModule, type BenchRow } from '../lib/types';

/**
 * ICE calls per job for each image form (issue 17), counted from the local ICE's calls(): with IMAGE_URL_MODE=auto
 * for the discovery job (no finding yet: the forms before the found one are tried too) and for the jobs after it
 * (steady state, which should cost what the fixed mode costs), and with IMAGE_URL_MODE set to the form (before auto).
 * Every upload is a new object, as real uploads are (so yike-asset and media-id register each one).
 *
 * Each form gets a local ICE where it is the first that works:
 * - yike-asset, media-id: LOCAL_ICE_ACCEPTS=yike-asset / media-id;
 * - public: LOCAL_ICE_ACCEPTS=url;
 * - signed: url, and ICE's own reads of the bucket are refused (its role has no access), so only a signed URL reaches it;
 * - cdn (CDN_BASE_URL set): url, and the image is only behind the CDN (ICE reads the CDN, not the upload bucket).
 */
const UPLOADS_BUCKET = 'yike-uploads';
const CDN_BUCKET = 'yike-cdn-origin';
const CDN_BASE_URL = 'https://cdn.yike-bench.example';
const APP_ID = 'sys-ao-smith-1';
const STEADY_JOBS = 10;

interface Scenario {
  mode: ImageForm;
  accepts: AcceptedForm;
  /** How the local ICE is set so that this form is the first that works. */
  how: string;
  /** signed: ICE reads the bucket with credentials the local OSS refuses. */
  iceReadsRefused?: boolean;
  /** cdn: the image is stored in the CDN's origin bucket only, and CDN_BASE_URL is set. */
  behindCdn?: boolean;
}

const SCENARIOS: Scenario[] = [
  { mode: 'yike-asset', accepts: 'yike-asset', how: 'LOCAL_ICE_ACCEPTS=yike-asset' },
  { mode: 'media-id', accepts: 'media-id', how: 'LOCAL_ICE_ACCEPTS=media-id' },
  { mode: 'public', accepts: 'url', how: 'LOCAL_ICE_ACCEPTS=url' },
  { mode: 'signed', accepts: 'url', how: 'url; ICE may not read the bucket itself', iceReadsRefused: true },
  { mode: 'cdn', accepts: 'url', how: 'url; CDN_BASE_URL set, the image only behind the CDN', behindCdn: true },
];

/** "Action count" per job, in the order first seen. */
function perJob(calls: readonly ReceivedCall[], jobs: number): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.action ?? '?', (counts.get(call.action ?? '?') ?? 0) + 1);
  return [...counts].map(([action, count]) => `${action} ${Number((count / jobs).toFixed(2))}`).join(', ');
}

export const imageModes: BenchModule = {
  name: 'image-modes',
  async run({ env, runId, progress }) {
    const dataDir = mkdtempSync(join(tmpdir(), 'yike-bench-image-modes-'));
    const oss = await startOssServer({ dataDir, buckets: [UPLOADS_BUCKET, CDN_BUCKET] });
    const rows: BenchRow[] = [];
    try {
      for (const scenario of SCENARIOS) {
        progress(`image-modes: ${scenario.mode} (${scenario.how}), auto and fixed`);
        rows.push(...(await measure(scenario, { oss, env, runId })));
      }
    } finally {
      await oss.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    return rows;
  },
};

async function measure(scenario: Scenario, options: { oss: LocalOssServer; env: Record<string, string>; runId: string }): Promise<BenchRow[]> {
  const { oss, runId } = options;
  const ice = await startIceServer({
    accepts: scenario.accepts,
    images: {
      ossUrl: oss.url,
      aliases: { [CDN_BASE_URL]: CDN_BUCKET },
      ...(scenario.iceReadsRefused ? { credentials: { accessKeyId: 'ice-without-access', accessKeySecret: 'refused' } } : {}),
    },
  });
  const client = ossClient(oss.url, scenario.behindCdn ? CDN_BUCKET : UPLOADS_BUCKET);
  let uploads = 0;
  /** A fresh FC instance of oss-submit with this environment; each call is one new upload. */
  const instance = (mode: 'auto' | ImageForm, recordsPrefix: string) => {
    const handler = createOssHandler({
      env: {
        ...options.env,
        ICE_ENDPOINT: ice.url,
        OSS_ENDPOINT: oss.localhostUrl,
        // auto: the default, set explicitly since the bench's own environment pins the form for the other rows.
        IMAGE_URL_MODE: mode,
        ...(scenario.behindCdn ? { CDN_BASE_URL } : {}),
        LOG_LEVEL: 'error',
      },
      // Each instance its own records prefix: its own findings, as a fresh deployment has none.
      tuning: { records: { prefix: recordsPrefix } },
      sink: () => undefined,
    });
    return async () => {
      const key = `uploads/female/${runId}-${scenario.mode}-${uploads++}.png`;
      const put = await client.put(key, TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
      const event = structuredClone(ossTriggerPut);
      const eTag = String((put.res.headers as Record<string, string>).etag).replace(/"/g, '');
      Object.assign(event.events[0]!.oss.object, { key, eTag, size: TINY_PNG.length, deltaSize: TINY_PNG.length });
      const result = await handler(Buffer.from(JSON.stringify(event)), {
        requestId: `${runId}-${uploads}`,
        credentials: { ...LOCAL_STS_CREDENTIALS },
        function: { name: 'bench', timeout: 60 },
        region: 'cn-shanghai',
      });
      if (result.submitted.length !== 1) throw new Error(`image-modes ${scenario.mode}: upload not submitted: ${JSON.stringify(result)}`);
    };
  };
  const callsOf = async (jobs: number, upload: () => Promise<void>) => {
    const before = ice.calls().length;
    for (let i = 0; i < jobs; i++) await upload();
    return ice.calls().slice(before);
  };

  try {
    const autoPrefix = `.bench-${runId}-${scenario.mode}-auto/`;
    const auto = instance('auto', autoPrefix);
    const discovery = await callsOf(1, auto);
    const finding = JSON.parse((await ossClient(oss.url, UPLOADS_BUCKET).get(imageModeFindingKey(autoPrefix, APP_ID))).content.toString('utf8'));
    if (finding.mode !== scenario.mode) throw new Error(`image-modes: ${scenario.how} found ${finding.mode}, not ${scenario.mode}`);
    const steady = await callsOf(STEADY_JOBS, auto);
    const fixed = await callsOf(STEADY_JOBS, instance(scenario.mode, `.bench-${runId}-${scenario.mode}-fixed/`));
    const fixedPerJob = fixed.length / STEADY_JOBS;
    const steadyPerJob = steady.length / STEADY_JOBS;
    const label = `image mode ${scenario.mode} (${scenario.how})`;
    return [
      info(`${label}: ICE calls, discovery job (auto, no finding yet: ${perJob(discovery, 1)})`, `${discovery.length}`, discovery.length, 'calls'),
      {
        ...info(`${label}: ICE calls per job after the finding (auto, ${STEADY_JOBS} jobs: ${perJob(steady, STEADY_JOBS)})`, steadyPerJob.toFixed(2)),
        target: `= IMAGE_URL_MODE=${scenario.mode}'s`,
        ok: steadyPerJob === fixedPerJob,
        value: steadyPerJob,
        unit: 'calls',
      },
      info(
        `${label}: ICE calls per job, IMAGE_URL_MODE=${scenario.mode} (before auto; ${STEADY_JOBS} jobs: ${perJob(fixed, STEADY_JOBS)})`,
        fixedPerJob.toFixed(2),
        fixedPerJob,
        'calls',
      ),
    ];
  } finally {
    await ice.close();
  }
}

function ossClient(ossUrl: string, bucket: string): OSS {
  const Client = require('ali-oss') as typeof OSS;
  return new Client({
    endpoint: ossUrl,
    bucket,
    region: 'oss-cn-shanghai',
    ...LOCAL_STS_CREDENTIALS,
    stsToken: LOCAL_STS_CREDENTIALS.securityToken,
    refreshSTSTokenInterval: 300_000,
  } as OSS.Options);
}
