import * as z from '../../runtime/zod';
import { jobViewSchema } from '../../domain/lifecycle/payload-schemas';
import { documented as describe } from '../../runtime/schema-docs';

/**
 * What http-submit answers, one zod schema per body: the routes type their answers with these (`z.output<…>`, so a
 * route that answers another shape does not compile) and the OpenAPI document (openapi/operations.ts) is made from
 * them. The route code imports them as types only: the schemas themselves load with the document, never at cold start.
 */
const isoTime = (description: string) => describe(z.iso.datetime(), description);

/** `details` of a field refusal: each field by its dotted path. */
const fieldIssues = z.array(z.object({ path: z.string(), message: z.string() }));

/** `details` of a 429 over the budget or a token's quota (shared/domain/budget/spending.ts). */
const budgetRefusal = z.object({
  reason: z.enum(['budget', 'renewal-pending', 'quota']),
  day: describe(z.string(), 'The budget day, YYYY-MM-DD in BUDGET_TIMEZONE'),
  limit: z.number().check(z.int()),
  resetsAt: isoTime('When the budget (or the quota) renews'),
  retryAfterSeconds: z.number().check(z.int()),
  token: z.optional(describe(z.string(), "The token's name (QUOTA_EXHAUSTED)")),
});

/** `details` of PRECHECK_FAILED: each image form ICE's precheck was asked about, with its answer. */
const precheckTrials = z.array(z.object({ mode: z.string(), status: z.string(), errorCodes: z.array(z.string()) }));

/** `details` of PRECHECK_FAILED from the precheck of the job itself (shared/domain/jobs/precheck.ts). */
const precheckIssues = z.array(z.object({ key: z.string(), errorCode: z.string() }));

/** `details` of IMAGE_BLOCKED: the Yike asset and its audit. */
const auditRefusal = z.object({ mediaId: z.string(), auditStatus: z.optional(z.string()), auditBlockedLabel: z.string() });

/** `details` of an error ICE answered: its RequestId, for a support ticket. */
const iceRequest = z.object({ iceRequestId: z.string() });

/** What an error may say beyond its code and message. */
export const errorDetailsSchema = z.union([fieldIssues, budgetRefusal, precheckIssues, precheckTrials, auditRefusal, iceRequest]);

export const errorBodySchema = z.object({
  error: z.object({
    code: describe(z.string(), 'Stable: branch on it (each response lists its codes)'),
    message: describe(z.string(), 'For people; never a stack trace'),
    details: z.optional(errorDetailsSchema),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;

export const healthSchema = z.object({ status: z.literal('ok') });
export type HealthBody = z.output<typeof healthSchema>;

export const appsSchema = z.object({
  apps: z.array(
    z.object({
      name: describe(z.string(), 'What upload keys carry (`uploads/<name>/…`): female, male or a YIKE_APPS AppId'),
      appId: z.string(),
      description: z.string(),
    }),
  ),
  maxImageBytes: z.number().check(z.int()),
  imageSuffixes: z.array(z.string()),
});
export type AppsBody = z.output<typeof appsSchema>;

export const uploadFormSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  app: z.object({ name: z.string(), appId: z.string() }),
  url: describe(z.string(), 'Where the browser posts the form (OSS PostObject)'),
  fields: describe(z.record(z.string(), z.string()), 'The form fields in the order they must be sent; `file` goes last'),
  maxBytes: z.number().check(z.int()),
  expiresAt: isoTime('When the signed policy expires'),
});
export type UploadFormBody = z.output<typeof uploadFormSchema>;

export const ticketSchema = z.object({
  ticket: describe(z.string(), 'The upload ticket (a JWT): the bearer token of the browser it is given to'),
  expiresAt: isoTime('When the ticket stops working'),
  pageUrl: describe(z.string(), 'The page with the ticket in its fragment (`/#ticket=…`), relative to this API: send your customer there'),
});
export type TicketBody = z.output<typeof ticketSchema>;

export const shareSchema = z.object({
  url: describe(z.string(), 'The share page, `/v/<token>`, relative to this API: it plays the video and previews in chat apps'),
  expiresAt: isoTime("When the link stops working: SHARE_DAYS from now, or the ticket's expiry when a ticket asked, whichever is first"),
});
export type ShareBody = z.output<typeof shareSchema>;

export const usageSchema = z.object({
  day: z.string(),
  timezone: z.string(),
  used: describe(z.nullable(z.number().check(z.int())), 'null without JOB_BUDGET_PER_DAY'),
  limit: z.nullable(z.number().check(z.int())),
  remaining: z.nullable(z.number().check(z.int())),
  deferred: describe(z.number().check(z.int()), 'Items waiting in the deferred line'),
  resetsAt: isoTime('When the budget renews'),
  tokens: describe(z.array(z.object({ name: z.string(), used: z.number().check(z.int()), limit: z.number().check(z.int()) })), "The caller's own quota"),
  estimatedCost: z.optional(z.object({ amount: z.number(), currency: z.string(), perJob: z.number() })),
});
export type UsageBody = z.output<typeof usageSchema>;

export const submittedJobSchema = z.object({
  jobId: z.string(),
  requestId: describe(z.string(), "ICE's RequestId of the submit"),
  appId: z.string(),
});
export type SubmittedJobBody = z.output<typeof submittedJobSchema>;

export const jobSchema = z.extend(jobViewSchema, {
  recorded: describe(z.boolean(), 'false: answered from ICE alone (?refresh=1 for a job no record holds); nothing was written'),
});
export type JobBody = z.output<typeof jobSchema>;

export const jobListSchema = z.object({
  data: describe(z.array(jobSchema), 'Newest first, each as GET /jobs/{jobId} answers it'),
  hasMore: describe(z.boolean(), 'More jobs follow: ask again with after=lastId'),
  lastId: describe(z.nullable(z.string()), "The last job's id on this page (the next page's `after`); null for an empty page"),
});
export type JobListBody = z.output<typeof jobListSchema>;

export const objectSubmissionSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  eTag: z.optional(z.string()),
  status: z.enum(['IN_PROGRESS', 'COMPLETED', 'OUTCOME_UNKNOWN', 'REJECTED', 'DEFERRED', 'SKIPPED']),
  jobId: z.optional(z.string()),
  requestId: z.optional(z.string()),
  appId: z.optional(z.string()),
  startedAt: isoTime('When the upload function took the object'),
  completedAt: z.optional(isoTime('When the submit ended')),
  error: z.optional(z.object({ code: z.string(), message: z.string(), details: z.optional(z.unknown()) })),
  job: describe(z.nullable(jobViewSchema), 'The job from its job record; null before it has one'),
});
export type ObjectSubmissionBody = z.output<typeof objectSubmissionSchema>;

export const doctorReportSchema = z.object({
  yike: z.literal('doctor'),
  kind: z.enum(['http-submit', 'oss-submit', 'job-watcher', 'budget-renewal']),
  functionName: z.optional(z.string()),
  checkedAt: isoTime('When the checks ran'),
  checks: z.array(
    z.object({
      id: describe(z.string(), 'Stable, e.g. ice.permissions'),
      title: z.string(),
      status: z.enum(['pass', 'fail', 'skip']),
      required: z.boolean(),
      detail: z.string(),
      fix: z.optional(z.string()),
    }),
  ),
  configuration: describe(z.record(z.string(), z.string()), 'The variables the function runs with; secrets only as set or unset'),
});
export type DoctorReportBody = z.output<typeof doctorReportSchema>;
