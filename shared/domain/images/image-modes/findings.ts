import type { ImageForm } from '../../../runtime/env';
import type { RecordStore } from '../../ports';

/**
 * IMAGE_URL_MODE=auto: what was found out about an app, kept at `<RECORDS_PREFIX>settings/image-modes/<appId>.json`
 * in the records bucket. The first finding is written create-only (x-oss-forbid-overwrite), so concurrent first
 * uploads converge on one; a finding that goes wrong is replaced (image-inputs.ts). Each instance keeps what it
 * read for FINDING_CACHE_MS, so after the finding a job costs only what its mode costs (no OSS read either).
 */
export interface ImageModeTrial {
  mode: ImageForm;
  /** The precheck's Status (`Success`, `Failed`), or `Error` when the reference itself could not be made. */
  status: string;
  /** The precheck's ErrorCodes, or the code of the refused call (e.g. Forbidden.RAM on RegisterYikeAssetMediaInfo). */
  errorCodes: string[];
}

export interface ImageModeFinding {
  schemaVersion: 1;
  appId: string;
  mode: ImageForm;
  /** ICE_REGION when found: a finding from another region is not used (ICE may accept other forms there). */
  region: string;
  decidedAt: string;
  /** The image the discovery ran on: oss://bucket/key. */
  image: string;
  /** The forms tried, in order, up to the one that passed. */
  tried: ImageModeTrial[];
}

export interface ImageModeFindings {
  /** The app's finding, from this instance's cache when read in the last FINDING_CACHE_MS. */
  get(appId: string): Promise<ImageModeFinding | undefined>;
  /** Writes the first finding (create-only) and answers the one stored: ours, or the one another upload wrote first. */
  create(finding: ImageModeFinding): Promise<ImageModeFinding>;
  /** Overwrites the finding (it went wrong, or belongs to another region). */
  replace(finding: ImageModeFinding): Promise<void>;
  /** `yike-jobs image-mode --reset`: the next upload finds again. */
  remove(appId: string): Promise<void>;
  /** Every app's finding (yike-jobs image-mode). */
  list(): Promise<ImageModeFinding[]>;
}

/** How long an instance trusts the finding it read: a reset or a replacement elsewhere is seen within this. */
const FINDING_CACHE_MS = 5 * 60_000;
const FINDINGS_FOLDER = 'settings/image-modes/';

function imageModeFindingsPrefix(recordsPrefix: string): string {
  return `${recordsPrefix}${FINDINGS_FOLDER}`;
}

/** `<RECORDS_PREFIX>settings/image-modes/<appId>.json`; an AppId is one path segment whatever it holds. */
export function imageModeFindingKey(recordsPrefix: string, appId: string): string {
  return `${imageModeFindingsPrefix(recordsPrefix)}${encodeURIComponent(appId)}.json`;
}

/** Per instance (an FC instance runs one request at a time and is reused): bucket + key -> finding and when read. */
const cached = new Map<string, { finding: ImageModeFinding; readAtMs: number }>();

export function imageModeFindings(options: { store: RecordStore; bucket: string; recordsPrefix: string; nowMs?: () => number }): ImageModeFindings {
  const { store, bucket, recordsPrefix } = options;
  const nowMs = options.nowMs ?? Date.now;
  const keyOf = (appId: string) => imageModeFindingKey(recordsPrefix, appId);
  const cacheKey = (appId: string) => `${bucket}\u0000${keyOf(appId)}`;
  const remember = (finding: ImageModeFinding) => cached.set(cacheKey(finding.appId), { finding, readAtMs: nowMs() });
  return {
    async get(appId) {
      const hit = cached.get(cacheKey(appId));
      if (hit && nowMs() - hit.readAtMs < FINDING_CACHE_MS) return hit.finding;
      const finding = await store.get<ImageModeFinding>(keyOf(appId));
      if (finding) remember(finding);
      else cached.delete(cacheKey(appId));
      return finding;
    },
    async create(finding) {
      const stored = (await store.createIfAbsent(keyOf(finding.appId), finding))
        ? finding
        : ((await store.get<ImageModeFinding>(keyOf(finding.appId))) ?? finding);
      remember(stored);
      return stored;
    },
    async replace(finding) {
      await store.put(keyOf(finding.appId), finding);
      remember(finding);
    },
    async remove(appId) {
      await store.delete(keyOf(appId));
      cached.delete(cacheKey(appId));
    },
    async list() {
      const keys = (await store.list(imageModeFindingsPrefix(recordsPrefix))).filter((key) => key.endsWith('.json'));
      const findings = await Promise.all(keys.map((key) => store.get<ImageModeFinding>(key)));
      return findings.filter((finding): finding is ImageModeFinding => finding !== undefined);
    },
  };
}
