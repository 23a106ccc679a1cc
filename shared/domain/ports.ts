/**
 * What the domain needs from the outside world, and nothing more. The composition root (shared/composition/)
 * hands these in; the adapters (shared/adapters/) satisfy them without importing this file: TypeScript checks
 * each adapter against its port where the composition root wires it. A port names the product's need ("read a
 * job's status"), an adapter says how (BatchGetYikeAIAppJob over ACS3-signed HTTPS).
 */

/**
 * Where idempotency, job and asset records live: OSS itself in production (shared by every FC instance, no extra
 * service to run). `createIfAbsent` is a conditional write (x-oss-forbid-overwrite: true).
 */
export interface RecordStore {
  /** Writes only if no object exists at `key`: true when written, false when one already exists. */
  createIfAbsent(key: string, body: unknown): Promise<boolean>;
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, body: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Keys under a prefix, in lexicographic order: the first `limit` of them when given, starting after the key `after`
   * (ListObjects' `marker`) when given.
   */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /** The same listing with each object's Last-Modified time (ISO-8601; OSS keeps whole seconds). */
  listWithTimes(prefix: string, options?: ListOptions): Promise<{ key: string; lastModified: string }[]>;
  /** The object's eTag (HeadObject, without quotes), or undefined when there is none. */
  eTagOf(key: string): Promise<string | undefined>;
}

/** Where a listing starts (after this key) and how many keys it gives at most. */
interface ListOptions {
  limit?: number;
  after?: string;
}

/** The record store of one bucket (records live in RECORDS_BUCKET, or beside the object). */
export type RecordStoreFor = (bucket: string) => RecordStore;

/** One output of a Yike AI app job, as ICE lists it under Result.{VideoResult,ImageResult,AudioResult}. */
export interface JobOutput {
  kind: 'video' | 'image' | 'audio';
  mediaId?: string;
  outputUrl?: string;
}

/**
 * ICE's view of one job (GetYikeAIAppJob, or an entry of BatchGetYikeAIAppJob's JobList). Declared here only: the ICE
 * adapter's answers are whatever its zod schemas parse (shared/adapters/ice/schemas.ts), checked against this shape
 * where the composition root hands the adapter to the domain.
 */
export interface IceJob {
  requestId: string;
  jobId: string;
  appId?: string;
  appParams?: string;
  productionId?: string;
  folderId?: string;
  status: string;
  executionStartTime?: string;
  executionFinishTime?: string;
  results: JobOutput[];
}

/** PrecheckYikeAIAppJob's answer: Status Success|Failed and, when failed, each input key's error code. */
export interface PrecheckAnswer {
  requestId: string;
  status: string;
  issues: { key: string; errorCode: string }[];
}

/** A Yike asset's content audit (GetYikeAssetMediaInfo's BizData). */
export interface YikeAssetAudit {
  mediaId: string;
  /** Passed through as ICE reports it; its values are undocumented. */
  auditStatus?: string;
  /** Non-empty when the content audit blocked the asset. */
  auditBlockedLabel?: string;
}

/**
 * ICE, as the product uses it. Errors are IceError (shared/runtime/errors.ts) with the call's outcome: a submit
 * whose answer was lost is `unknown` and never resent.
 */
export interface Ice {
  submitYikeAIAppJob(input: { appId: string; appParams?: string; productionId?: string; folderId?: string }): Promise<{ requestId: string; jobId: string }>;
  /** Free: checks the inputs without starting a job. */
  precheckYikeAIAppJob(input: { appId: string; appParams: string }): Promise<PrecheckAnswer>;
  getYikeAIAppJob(jobId: string): Promise<IceJob>;
  /**
   * At most `maxJobIdsPerBatchGet` ids. Ids ICE does not know are absent; `unreadable` counts entries that did not
   * parse (then a missing id may be one of them, not a job ICE forgot).
   */
  batchGetYikeAIAppJobs(jobIds: readonly string[]): Promise<{ requestId: string; jobs: IceJob[]; unreadable: number }>;
  /** JobIds per BatchGetYikeAIAppJob call: the adapter's limit (it refuses more), which the watcher chunks its jobs by. */
  readonly maxJobIdsPerBatchGet: number;
  /** The ICE media-library id of an image URL (looked up, else registered). */
  resolveMediaId(inputUrl: string): Promise<string>;
  /** RegisterYikeAssetMediaInfo: a free asset; a resend can at worst register a second one, never a job. */
  registerYikeAsset(input: { inputUrl: string; productionId?: string; folderId?: string }): Promise<{ mediaId: string; requestId: string }>;
  getYikeAssetAudit(mediaId: string): Promise<YikeAssetAudit>;
}

/** What a HEAD of an image object says. */
interface ObjectHead {
  eTag: string;
  size: number;
  contentType: string;
  /** Its user metadata: x-oss-meta-<name> as `<name>` (lower case) → value. */
  userMetadata: Record<string, string>;
}

/**
 * The images' bucket objects, read with the function's role. `head` answers `missing` (404) or `denied`
 * (403 AccessDenied) as outcomes; an unusable role or an unavailable OSS is thrown (OSS_AUTH_FAILED, OSS_UNAVAILABLE).
 */
export interface ImageObjects {
  head(bucket: string, key: string): Promise<{ status: 'found'; head: ObjectHead } | { status: 'missing' } | { status: 'denied' }>;
  /** A GET URL signed with the role's credentials, valid at most `expiresSeconds` (and never past the STS token). */
  signedUrl(bucket: string, key: string, expiresSeconds: number, now: Date): string;
}

/** A signed OSS PostObject form for one key (browser uploads). */
export interface UploadFormSigner {
  /** When the credentials that sign the form expire: the form never outlives them. */
  credentialsExpireAt(): Date | undefined;
  /** `fields`: more form fields, each pinned by the policy (the upload's user metadata, x-oss-meta-*). */
  sign(input: { bucket: string; key: string; contentType: string; policy: { expiration: string; conditions: unknown[] }; fields?: Record<string, string> }): {
    url: string;
    fields: Record<string, string>;
  };
}

/** What one copy stored: the full key (the key stem plus the output's extension), its size and Content-Type. */
interface CopiedOutput {
  key: string;
  bytes: number;
  contentType: string;
}

/**
 * JOB_RESULTS `copy`: streams one output URL into an OSS object (never holding it whole), keeping its Content-Type and
 * checking its size. Errors are YikeError with a stable code and `retryable`: RESULT_URL_REFUSED (a URL it will not
 * fetch), RESULT_TOO_LARGE, RESULT_SIZE_MISMATCH, RESULT_DOWNLOAD_FAILED, RESULT_UPLOAD_FAILED.
 */
export interface ResultCopier {
  copy(input: { sourceUrl: string; bucket: string; keyStem: string; maxBytes: number; timeoutMs: number }): Promise<CopiedOutput>;
}

/** A GET URL of an object signed with the role's credentials: valid at most `expiresSeconds`, and never past the STS token. */
export type ObjectUrlSigner = (bucket: string, key: string, expiresSeconds: number, now: Date) => { url: string; expiresAt: string };

/**
 * FC's async InvokeFunction (the next pipeline step, the watcher's next round): FC queues the event and runs it,
 * `asyncDelaySeconds` later when given (x-fc-async-delay), retrying it as the function's async config says.
 */
export interface FunctionInvoker {
  invokeAsync(functionName: string, payload: Buffer, options?: { asyncDelaySeconds?: number }): Promise<{ requestId: string }>;
}

/**
 * One signed webhook delivery attempt; never throws (a failure is an outcome the watcher retries later). `refused`: the
 * sender will not connect to where the URL leads (a per-job URL resolving to an internal address): never worth a retry.
 */
export type WebhookSender = (delivery: {
  url: string;
  secret: string;
  body: string;
  deliveryId: string;
  timeoutMs: number;
}) => Promise<{ ok: true; status: number } | { ok: false; error: string; refused?: true }>;

/** What the doctor asks OSS about a bucket (GetBucketLocation, one ListObjects page). */
export interface BucketInspector {
  /** The bucket's region as ICE names regions, e.g. cn-shanghai (GetBucketLocation answers oss-cn-shanghai). */
  region(bucket: string): Promise<string>;
  /** The objects of the first page (1,000 keys) listed under a prefix, most recently modified first. */
  recent(bucket: string, prefix: string): Promise<{ key: string; lastModified: string }[]>;
}

/**
 * One ICE action asked with made-up inputs (a job or media id nobody has), to learn whether the role may call it:
 * resolves with ICE's answer, throws IceError when ICE refused (Forbidden.RAM names a missing permission).
 */
export type IceActionProbe = (action: string, query: Record<string, string>) => Promise<unknown>;

/** A deployed FC 3.0 function as its control API shows it (GetFunction, 2023-03-30). */
export interface DeployedFunction {
  functionName: string;
  runtime?: string;
  handler?: string;
  state?: string;
  lastUpdateStatus?: string;
  environmentVariables: Record<string, string>;
}

/** A function's trigger as ListTriggers shows it; `triggerConfig` is parsed from the JSON string FC returns. */
export interface DeployedTrigger {
  triggerName: string;
  triggerType: string;
  sourceArn?: string;
  triggerConfig: Record<string, unknown>;
  /** The HTTP trigger's public address (httpTrigger.urlInternet). */
  urlInternet?: string;
}

/** FC 3.0's control API, read only (the doctor never changes a deployment). */
export interface FunctionDirectory {
  /** undefined when FC answers FunctionNotFound. */
  getFunction(name: string): Promise<DeployedFunction | undefined>;
  listTriggers(name: string): Promise<DeployedTrigger[]>;
}
