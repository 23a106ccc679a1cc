/**
 * The one submit's world with its ports faked in memory: a record store that logs every write and can refuse some,
 * an ICE whose precheck and submit answer as a test says (and that counts its calls), and image objects that HEAD
 * from a map. The domain pieces between them are the real ones (apps, image policy, image inputs with the precheck,
 * the spending limit), so a test drives submitYikeJob exactly as the entry points do.
 */
import { createSpendingLimit } from '../../../../shared/domain/budget/spending';
import { createImageInputs } from '../../../../shared/domain/images/image-modes/image-inputs';
import { createImagePolicy } from '../../../../shared/domain/images/image-policy';
import { createImageReferenceBuilder } from '../../../../shared/domain/images/image-reference';
import { createAppRegistry } from '../../../../shared/domain/jobs/apps';
import type { ImageObjects, PrecheckAnswer, RecordStore } from '../../../../shared/domain/ports';
import type { SubmitDependencies, SubmitYikeJobInput, SubmitYikeJobOutcome } from '../../../../shared/domain/submissions/submit-yike-job';
import type { ImageSource } from '../../../../shared/domain/images/image-reference';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { parseConfig, type Config } from '../../../../shared/runtime/config';
import { IceError, YikeError } from '../../../../shared/runtime/errors';
import { createLogger } from '../../../../shared/runtime/logger';

export const UPLOADS = 'yike-uploads';
export const RECORDS = 'yike-records';
export const PREFIX = '.yike-jobs/';
/** Noon in Shanghai: the budget's day is 2026-12-02 and it renews at the next midnight there. */
export const NOON = new Date('2026-12-02T04:00:00.000Z');
export const RESETS_AT = '2026-12-02T16:00:00.000Z';

/**
 * A record store in memory: `writes` lists each accepted write as `<op> <key>`, in order; `refuse` makes some throw;
 * every object's eTag is E1 unless `setETag` says otherwise.
 */
export function memoryStore() {
  const objects = new Map<string, string>();
  const eTags = new Map<string, string>();
  const writes: string[] = [];
  let refusal: ((op: string, key: string, body?: unknown) => boolean) | undefined;
  const check = (op: string, key: string, body?: unknown) => {
    if (refusal?.(op, key, body)) throw new YikeError('RECORD_STORE_FAILED', `${op} ${key} refused`, { retryable: false });
  };
  const store: RecordStore = {
    async createIfAbsent(key, body) {
      check('create', key, body);
      if (objects.has(key)) return false;
      objects.set(key, JSON.stringify(body));
      writes.push(`create ${key}`);
      return true;
    },
    async get<T>(key: string) {
      const text = objects.get(key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    async put(key, body) {
      check('put', key, body);
      objects.set(key, JSON.stringify(body));
      writes.push(`put ${key}`);
    },
    async delete(key) {
      check('delete', key);
      objects.delete(key);
      writes.push(`delete ${key}`);
    },
    async list(prefix, options) {
      const keys = [...objects.keys()].filter((key) => key.startsWith(prefix) && (options?.after === undefined || key > options.after)).sort();
      return options?.limit === undefined ? keys : keys.slice(0, options.limit);
    },
    async listWithTimes(prefix, options) {
      return (await store.list(prefix, options)).map((key) => ({ key, lastModified: NOON.toISOString() }));
    },
    async eTagOf(key) {
      return objects.has(key) ? (eTags.get(key) ?? 'E1') : undefined;
    },
  };
  return {
    store,
    writes,
    keys: (prefix = '') => [...objects.keys()].filter((key) => key.startsWith(prefix)).sort(),
    read: <T = any>(key: string) => (objects.has(key) ? (JSON.parse(objects.get(key)!) as T) : undefined),
    seed: (key: string, body: unknown) => void objects.set(key, JSON.stringify(body)),
    setETag: (key: string, eTag: string) => void eTags.set(key, eTag),
    refuse: (when: typeof refusal) => {
      refusal = when;
    },
  };
}

type SubmitAnswer = 'accept' | 'lost' | 'throttled';

/** ICE as far as the submit uses it: PrecheckYikeAIAppJob refuses the images in `refusedImages`; the submit answers `next`. */
function fakeIce() {
  const calls: { action: string; appId: string; appParams?: string }[] = [];
  const answers: SubmitAnswer[] = [];
  const refusedImages = new Set<string>();
  let jobs = 0;
  return {
    calls,
    refusedImages,
    /** The next submits' answers, in order (then `accept`). */
    answerNext: (...next: SubmitAnswer[]) => void answers.push(...next),
    actions: () => calls.map((call) => call.action),
    async precheckYikeAIAppJob(input: { appId: string; appParams: string }): Promise<PrecheckAnswer> {
      calls.push({ action: 'PrecheckYikeAIAppJob', ...input });
      const refused = Object.entries(JSON.parse(input.appParams) as Record<string, string>).filter(([, image]) => refusedImages.has(image));
      return { requestId: 'precheck', status: refused.length ? 'Failed' : 'Success', issues: refused.map(([key]) => ({ key, errorCode: 'ImageCheckFailed' })) };
    },
    async submitYikeAIAppJob(input: { appId: string; appParams?: string }) {
      calls.push({ action: 'SubmitYikeAIAppJob', ...input });
      const answer = answers.shift() ?? 'accept';
      if (answer === 'lost') throw new IceError('ICE_TIMEOUT', 'SubmitYikeAIAppJob: no answer in time', 'unknown');
      if (answer === 'throttled') throw new IceError('Throttling.User', 'Request was denied due to user flow control', 'rejected', { retryable: true });
      jobs++;
      return { requestId: `request-${jobs}`, jobId: `job-${jobs}` };
    },
    async resolveMediaId(): Promise<string> {
      throw new Error('the public form needs no media id');
    },
  };
}

/** Image objects HEAD from `heads` (absent: missing). */
function fakeObjects() {
  const heads = new Map<string, { eTag: string; size: number; contentType: string; userMetadata: Record<string, string> }>();
  const headed: string[] = [];
  const objects: ImageObjects = {
    async head(bucket, key) {
      headed.push(`oss://${bucket}/${key}`);
      const head = heads.get(`${bucket}/${key}`);
      return head ? { status: 'found', head } : { status: 'missing' };
    },
    signedUrl: () => {
      throw new Error('the public form signs nothing');
    },
  };
  return {
    objects,
    headed,
    put: (bucket: string, key: string, eTag = 'E1', size = 1024, userMetadata: Record<string, string> = {}) =>
      heads.set(`${bucket}/${key}`, { eTag, size, contentType: 'image/png', userMetadata }),
  };
}

export type SubmitWorld = ReturnType<typeof submitWorld>;

/** A deployment with ALLOWED_BUCKETS=yike-uploads, RECORDS_BUCKET unset, and optionally JOB_BUDGET_PER_DAY. */
export function submitWorld(options: { perDay?: number; tokenQuotas?: Record<string, number> } = {}) {
  const base = parseConfig({});
  const config: Config = {
    ...base,
    records: { ...base.records, prefix: PREFIX },
    uploads: { ...base.uploads, appRoutes: { 'uploads/female/': 'female', 'uploads/male/': 'male' } },
    http: { ...base.http, allowedBuckets: [UPLOADS], allowedImageHosts: [] },
    budget: { ...base.budget, perDay: options.perDay, timeZone: 'Asia/Shanghai', tokenQuotas: options.tokenQuotas ?? {} },
  };
  const stores = new Map<string, ReturnType<typeof memoryStore>>();
  const bucket = (name: string) => stores.get(name) ?? stores.set(name, memoryStore()).get(name)!;
  const ice = fakeIce();
  const images = fakeObjects();
  const lines: Record<string, any>[] = [];
  const logger = createLogger({ level: 'debug', sink: (line) => void lines.push(JSON.parse(line)) });
  let at = NOON;
  const now = () => at;
  const references = createImageReferenceBuilder({ config: config.oss, objects: images.objects, ice });
  const deps: SubmitDependencies = {
    config,
    logger,
    ice,
    apps: createAppRegistry(),
    defaults: {},
    imageInputs: createImageInputs({
      mode: 'public',
      precheck: true,
      region: config.ice.region,
      candidates: ['public'],
      images: references,
      ice,
      findings: () => {
        throw new Error('a fixed mode keeps no findings');
      },
    }),
    budget:
      options.perDay === undefined && !options.tokenQuotas
        ? undefined
        : createSpendingLimit({ store: bucket(UPLOADS).store, recordsPrefix: PREFIX, settings: config.budget, logger, now }),
    recordStore: (name) => bucket(name).store,
    imageObjects: images.objects,
    imagePolicy: createImagePolicy(config),
    remainingTimeMs: () => 60_000,
    now,
  };
  return {
    config,
    deps,
    ice,
    images,
    bucket,
    lines,
    /** The clock of the records and the budget (it stands still unless set). */
    setNow: (date: Date) => {
      at = date;
    },
  };
}

export const URL_OF = (key: string) => `https://${UPLOADS}.oss-cn-shanghai.aliyuncs.com/${key}`;

/** What oss-submit hands in for an upload (shared/domain/submissions/submissions.ts). */
export function upload(key: string, size = 1024): SubmitYikeJobInput {
  const object = { bucket: UPLOADS, key, eTag: 'E1', size };
  const source = `oss://${UPLOADS}/${key}`;
  return {
    source,
    job: { payer: { source } },
    image: { uploaded: object },
    once: { recordKey: objectRecordKey(PREFIX, object), idempotencyKey: `${source}#E1` },
    overBudget: { defer: { kind: 'object', object: { ...object, eventName: 'PutObject', region: 'cn-shanghai', eventTime: NOON.toISOString() } } },
    entryPoint: 'upload',
  };
}

/** What POST /jobs hands in (shared/triggers/http/api.ts), with an Idempotency-Key scope or without one. */
export function postJobs(image: ImageSource, scope?: string, app = 'female'): SubmitYikeJobInput {
  return {
    source: 'POST /jobs',
    job: { app, payer: { source: 'POST /jobs' } },
    image: { named: image, allowlist: 'always' },
    once: scope === undefined ? undefined : { recordKey: `${PREFIX}http/${scope}.json`, idempotencyKey: scope, payloadHash: 'body' },
    overBudget: 'refuse',
    entryPoint: 'http',
  };
}

export const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

/** An outcome without the submit record it may carry: what a caller answers from. */
export function answer(outcome: SubmitYikeJobOutcome) {
  const { record: _record, ...rest } = outcome as SubmitYikeJobOutcome & { record?: unknown };
  return rest;
}
