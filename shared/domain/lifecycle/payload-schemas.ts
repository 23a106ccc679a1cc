import { documented } from '../../runtime/schema-docs';
import * as z from '../../runtime/zod';

/**
 * What users see of a job, as zod schemas: the job view (`GET /jobs/{jobId}`, yike-jobs) and the notification every
 * channel carries (webhook, result object, next function). The OpenAPI document is made from them, and notify.ts
 * types its payload with them. Only the document and the tools load this module, never a function's cold start.
 */
const isoTime = (description: string) => documented(z.iso.datetime(), description);

const jobOutputSchema = z.object({
  kind: z.enum(['video', 'image', 'audio']),
  mediaId: z.optional(z.string()),
  outputUrl: z.optional(documented(z.string(), "ICE's output URL")),
  ownBucket: z.optional(z.string()),
  ownKey: z.optional(documented(z.string(), 'The own copy: oss://<ownBucket>/<ownKey> (JOB_RESULTS copy)')),
});

/** The fields a job view and a notification's job share (shared/domain/lifecycle/job-record.ts). */
const jobFields = {
  jobId: z.string(),
  appId: z.string(),
  source: documented(z.string(), '`oss://bucket/key` for OSS images, the image URL otherwise'),
  status: documented(z.string(), "Submitted, ICE's Created, Queuing, Executing, Finished or Failed, or TimedOut"),
  executionStartTime: z.optional(documented(z.string(), 'As ICE wrote it (China Standard Time, `+08:00`)')),
  executionFinishTime: z.optional(documented(z.string(), 'As ICE wrote it (China Standard Time, `+08:00`)')),
  results: z.array(jobOutputSchema),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
  upload: z.optional(documented(z.object({ bucket: z.string(), key: z.string(), eTag: z.optional(z.string()) }), 'The uploaded object, for upload jobs')),
  productionId: z.optional(z.string()),
  folderId: z.optional(z.string()),
  metadata: z.optional(
    documented(
      z.record(z.string(), z.string()),
      "The caller's own keys and values (POST /jobs or POST /uploads metadata): at most 16 keys of 1-64 characters, values of at most 512",
    ),
  ),
  consent: z.optional(
    documented(
      z.object({ version: z.string(), acceptedAt: z.iso.datetime() }),
      'The consent the person gave on the page before uploading (CONSENT_VERSION) and when: ticketed uploads only',
    ),
  ),
  copy: z.optional(documented(z.enum(['pending', 'failed']), "pending: a Finished job's own copy is not made yet; failed: given up")),
  playUrl: z.optional(documented(z.string(), 'The own copy, signed for at most SIGNED_URL_EXPIRES_SECONDS')),
  playUrlExpiresAt: z.optional(isoTime('When playUrl stops working')),
};
const entryPoint = z.enum(['upload', 'http', 'pipeline', 'cli']);

/** shared/domain/lifecycle/job-view.ts JobView. */
export const jobViewSchema = z.object({
  ...jobFields,
  executionStartTime: z.optional(documented(z.string(), "ICE's time in UTC (`…Z`; ICE writes China Standard Time)")),
  executionFinishTime: z.optional(documented(z.string(), "ICE's time in UTC (`…Z`; ICE writes China Standard Time)")),
  terminal: documented(z.boolean(), 'True for Finished, Failed and TimedOut: nothing changes any more'),
  submittedAt: z.optional(isoTime('When it was submitted')),
  updatedAt: z.optional(isoTime('When its record last changed')),
  entryPoint: z.optional(entryPoint),
});

/** The job record without the watcher's bookkeeping, and `playUrl` signed anew for each delivery. */
const notifiedJobSchema = z.object({
  ...jobFields,
  schemaVersion: z.literal(1),
  submittedAt: isoTime('When it was submitted'),
  updatedAt: isoTime('When its record last changed'),
  entryPoint,
  iceRequestId: z.optional(documented(z.string(), "ICE's RequestId of the submit")),
  settledAt: z.optional(isoTime('When the outcome was first recorded')),
});

export const notificationPayloadSchema = z.object({
  id: documented(z.string(), 'The same on every retry of this notification: deduplicate by it (`<jobId>.<outcome>`)'),
  type: z.enum(['yike.job.finished', 'yike.job.failed', 'yike.job.timed-out', 'yike.job.result-copied']),
  time: isoTime('When the outcome was first recorded (result-copied: when the copy was done)'),
  job: notifiedJobSchema,
});
export type NotificationPayload = z.output<typeof notificationPayloadSchema>;

/** The doctor's signed test delivery (yike-doctor): receivers answer 2xx and ignore it. */
export const webhookTestPayloadSchema = z.object({
  id: documented(z.string(), 'yike.test.<random>'),
  type: z.literal('yike.test'),
  time: isoTime('When the doctor sent it'),
});
