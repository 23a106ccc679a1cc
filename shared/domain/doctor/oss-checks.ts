import type { Config } from '../../runtime/config';
import type { BucketInspector, RecordStoreFor } from '../ports';
import { fail, pass, skip, type DoctorCheck } from './report';

/**
 * OSS as the function's role sees it: the records prefix takes a write, a read and a delete of a probe object; each
 * bucket is in ICE's region (ICE reads OSS only in its own region); the watcher can write under RESULTS_PREFIX.
 */
const errorText = (error: unknown) => `${(error as { code?: string }).code ?? 'Error'}: ${(error as Error).message ?? String(error)}`;

export async function recordsCheck(config: Config, buckets: readonly string[], store: RecordStoreFor, probeName: string): Promise<DoctorCheck> {
  const id = 'oss.records';
  const title = 'the records prefix takes a write, a read and a delete';
  if (buckets.length === 0)
    return skip(id, title, 'no records bucket configured (records live beside each upload): checked on the upload bucket by the upload function');
  const done: string[] = [];
  for (const bucket of buckets) {
    const key = `${config.records.prefix}doctor/${probeName}.json`;
    const records = store(bucket);
    let step = 'PutObject';
    try {
      await records.put(key, { yike: 'doctor', probe: probeName });
      step = 'GetObject';
      if ((await records.get<{ probe?: string }>(key))?.probe !== probeName)
        throw Object.assign(new Error('the probe read back differs'), { code: 'PROBE_MISMATCH' });
      step = 'DeleteObject';
      await records.delete(key);
    } catch (error) {
      return fail(
        id,
        title,
        `${step} of ${bucket}/${key} failed (${errorText(error)})`,
        `grant the role oss:PutObject, oss:GetObject and oss:DeleteObject on acs:oss:*:*:${bucket}/${config.records.prefix}* (npm run deploy grants it: deploy/infrastructure.json)`,
      );
    }
    done.push(`${bucket}/${config.records.prefix}doctor/`);
  }
  return pass(id, title, `wrote, read and deleted a probe under ${done.join(', ')}`);
}

export async function regionCheck(config: Config, buckets: readonly string[], inspector: BucketInspector): Promise<DoctorCheck> {
  const id = 'oss.region';
  const title = "each bucket is in ICE's region";
  if (buckets.length === 0) return skip(id, title, 'no bucket configured');
  const seen: string[] = [];
  for (const bucket of buckets) {
    let region: string;
    try {
      region = await inspector.region(bucket);
    } catch (error) {
      return fail(
        id,
        title,
        `the region of ${bucket} could not be read (${errorText(error)})`,
        `grant the role oss:GetBucketLocation on acs:oss:*:*:${bucket}, and check that the bucket exists in ${config.oss.region} (ICE_REGION)`,
      );
    }
    if (region !== config.ice.region) {
      return fail(
        id,
        title,
        `${bucket} is in ${region}; ICE_REGION is ${config.ice.region} (ICE reads OSS only in its own region)`,
        `use a bucket in ${config.ice.region}, or deploy everything to ${region} (YIKE_REGION=${region}) if ICE runs there`,
      );
    }
    seen.push(bucket);
  }
  return pass(id, title, `${seen.join(', ')}: ${config.ice.region}`);
}

export async function resultsCheck(config: Config, buckets: readonly string[], store: RecordStoreFor): Promise<DoctorCheck> {
  const id = 'oss.results';
  const title = 'the results prefix is writable';
  if (!config.lifecycle.resultObjects) return skip(id, title, 'JOB_RESULTS has no object: no result objects are written');
  if (buckets.length === 0) return skip(id, title, 'no bucket to write results in');
  const key = `${config.records.resultsPrefix}.yike-doctor-probe.json`;
  for (const bucket of buckets) {
    try {
      await store(bucket).put(key, { yike: 'doctor', note: 'written by the doctor to check RESULTS_PREFIX is writable; safe to delete' });
    } catch (error) {
      return fail(
        id,
        title,
        `PutObject of ${bucket}/${key} failed (${errorText(error)})`,
        `grant the role oss:PutObject on acs:oss:*:*:${bucket}/${config.records.resultsPrefix}* (npm run deploy grants it: deploy/infrastructure.json)`,
      );
    }
  }
  return pass(id, title, `wrote ${buckets.map((bucket) => `${bucket}/${key}`).join(', ')}`);
}
