/**
 * The local ICE endpoint's job actions (server.ts dispatches to them): SubmitYikeAIAppJob, GetYikeAIAppJob and
 * BatchGetYikeAIAppJob, over the jobs it accepted (or a test seeded). A job's status is never stored: it is derived
 * from the time since it was submitted on the job clock (job-clock.ts) and shown as the Get actions show it
 * (job-views.ts).
 *
 * Sources:
 * - [GETJOB]  GetYikeAIAppJob API reference, https://help.aliyun.com/zh/ims/developer-reference/api-ice-2020-11-09-getyikeaiappjob,
 *             and GetYikeAIAppJobResponseBody of the ice20201109 SDKs: the job fields sit at the TOP LEVEL of the answer,
 *             next to RequestId (no wrapper object, unlike GetMediaProducingJob's "MediaProducingJob").
 * - [BATCH]   BatchGetYikeAIAppJobResponseBody (ice20201109 SDKs; API reference api-ice-2020-11-09-batchgetyikeaiappjob):
 *             {RequestId, JobList[]}, each item with AppInputConfig where GetYikeAIAppJob says AppParams. No field for
 *             ids that were not found, so unknown ids are left out of JobList.
 * - [IMSERR]  ICE/IMS error code table, https://help.aliyun.com/document_detail/197855.html: ResourceNotFound (404).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { IceApiError, invalidParameter, missingParameter, type Answer } from './answers';
import { imageFails, imageKeyFor, type JobClock } from './job-clock';
import { copyJob, jobView } from './job-views';
import type { LocalOutput } from './outputs';
import { optionalId, requiredAppParams, type Fields } from './request-fields';
import type { AcceptedJob } from './types';

export interface IceJobsOptions {
  /** Known AppIds and the AppParams key that must hold the image. */
  apps: Readonly<Record<string, { imageKey: string }>>;
  clock: JobClock;
  /** Longest AppParams accepted, in characters. */
  maxAppParamsLength: number;
  /** Whether a media id names a registered asset (in any media library). */
  isRegisteredMedia(mediaId: string): boolean;
  /** The InputURL a media id was registered with (in any media library), to tell whether its job fails. */
  mediaInputUrl(mediaId: string): string | undefined;
  /** What a job on this image key produces (outputs.ts), decided when it is accepted. */
  outputsFor(jobId: string, imageKey: string | undefined): LocalOutput[];
  /** Why the app does not take this image reference (its form: acceptance.ts), or undefined. */
  refusalOf(image: string, imageKey: string): Error | undefined;
}

/** A job added as if submitted (at `submittedAtMs` on the job clock, default now), without a signed call. */
export interface SeededJob {
  jobId: string;
  appId: string;
  appParamsRaw: string;
  submittedAtMs?: number;
}

export interface IceJobs {
  submit(fields: Fields, requestId: string, accessKeyId: string, receivedAt: Date): Answer;
  get(fields: Fields, requestId: string): Answer;
  batchGet(fields: Fields, requestId: string): Answer;
  seed(jobs: SeededJob[]): void;
  /** Copies of the accepted jobs, in submission order. */
  jobs(): AcceptedJob[];
  reset(): void;
}

const JOB_ID_BYTES = 16;
const HTTP_OK = 200;
const HTTP_NOT_FOUND = 404;
const JOB_ID_SEPARATOR = ',';

export function createIceJobs(options: IceJobsOptions): IceJobs {
  const { apps, clock, maxAppParamsLength } = options;
  const jobs: AcceptedJob[] = [];
  const jobsById = new Map<string, AcceptedJob>();
  /** Per job: when it was submitted on the job clock, whether it ends Failed, and what it produces when it does not. */
  const jobClockEntries = new Map<string, { submittedAtMs: number; fails: boolean; outputs: LocalOutput[] }>();

  const addJob = (job: AcceptedJob, submittedAtMs: number, image: unknown): void => {
    jobs.push(job);
    jobsById.set(job.jobId, job);
    const outputs = options.outputsFor(job.jobId, imageKeyFor(image, options.mediaInputUrl));
    jobClockEntries.set(job.jobId, { submittedAtMs, fails: imageFails(image, options.mediaInputUrl), outputs });
  };

  /** Status and result of a job at `now`, derived from the time since it was submitted. */
  const jobViewAt = (job: AcceptedJob, now: number, inputFieldName: 'AppParams' | 'AppInputConfig'): Record<string, unknown> => {
    const entry = jobClockEntries.get(job.jobId) ?? { submittedAtMs: Date.parse(job.receivedAt), fails: false, outputs: [] };
    return jobView(job, clock.phaseAt(entry.submittedAtMs, entry.fails, now), entry.outputs, inputFieldName);
  };

  return {
    submit(fields, requestId, accessKeyId, receivedAt) {
      const appId = fields.get('AppId');
      if (!appId) throw missingParameter('AppId');
      const app = apps[appId.value];
      if (!app) throw invalidParameter('AppId', `No Yike AI app "${appId.value}" exists.`);
      const { raw: appParamsRaw, parsed: appParams, image } = requiredAppParams(fields, app.imageKey, maxAppParamsLength);
      // A value that is not a URL is a media id, and must name a registered asset (a local assumption: ICE's own check is unverified).
      if (!image.includes('://') && !options.isRegisteredMedia(image)) {
        throw invalidParameter('AppParams', `"${app.imageKey}" names media "${image}", which is not registered.`);
      }
      const refusal = options.refusalOf(image, app.imageKey);
      if (refusal) throw refusal;
      const productionId = optionalId(fields, 'ProductionId');
      const folderId = optionalId(fields, 'FolderId');
      const job: AcceptedJob = {
        jobId: randomBytes(JOB_ID_BYTES).toString('hex'),
        requestId,
        appId: appId.value,
        appParams,
        appParamsRaw,
        ...(productionId === undefined ? {} : { productionId }),
        ...(folderId === undefined ? {} : { folderId }),
        accessKeyId,
        fieldsFrom: appId.from,
        receivedAt: receivedAt.toISOString(),
      };
      addJob(job, clock.now(), image);
      return { status: HTTP_OK, body: { RequestId: requestId, JobId: job.jobId } };
    },

    get(fields, requestId) {
      const jobId = fields.get('JobId');
      if (!jobId) throw missingParameter('JobId');
      const job = jobsById.get(jobId.value);
      // [IMSERR] ResourceNotFound (404) "Resource not found"; which code ICE uses for an unknown Yike job is unverified.
      if (!job) throw new IceApiError(HTTP_NOT_FOUND, 'ResourceNotFound', `Resource not found: no job with JobId "${jobId.value}".`);
      // [GETJOB]: the job's fields next to RequestId.
      return { status: HTTP_OK, body: { RequestId: requestId, ...jobViewAt(job, clock.now(), 'AppParams') } };
    },

    batchGet(fields, requestId) {
      // The SDK marks JobIds optional, but a batch get of no job is a client bug: refused like a GetYikeAIAppJob without JobId.
      const jobIds = fields.get('JobIds');
      if (!jobIds) throw missingParameter('JobIds');
      const wanted = jobIds.value
        .split(JOB_ID_SEPARATOR)
        .map((id) => id.trim())
        .filter(Boolean);
      // [BATCH]: unknown ids are left out.
      const found = wanted.flatMap((id) => jobsById.get(id) ?? []);
      return { status: HTTP_OK, body: { RequestId: requestId, JobList: found.map((job) => jobViewAt(job, clock.now(), 'AppInputConfig')) } };
    },

    seed(seeded) {
      for (const { submittedAtMs = clock.now(), ...fields } of seeded) {
        const appParams = fields.appParamsRaw === '' ? {} : (JSON.parse(fields.appParamsRaw) as Record<string, unknown>);
        const job: AcceptedJob = {
          ...fields,
          requestId: randomUUID().toUpperCase(),
          appParams,
          accessKeyId: 'seeded',
          fieldsFrom: 'body',
          receivedAt: new Date(submittedAtMs).toISOString(),
        };
        addJob(job, submittedAtMs, apps[job.appId] ? appParams[apps[job.appId]!.imageKey] : undefined);
      }
    },

    jobs: () => jobs.map(copyJob),
    reset: () => {
      jobs.length = 0;
      jobsById.clear();
      jobClockEntries.clear();
    },
  };
}
