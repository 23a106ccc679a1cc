import * as z from '../../runtime/zod';
import { metadataSchema } from '../../domain/jobs/metadata';

/**
 * One zod schema per event source, built from the documented payloads (docs/platform-facts.md, "Function Compute 3.0";
 * samples in test/fixtures/events/).
 * Only what we use is required; the rest passes through untouched.
 */

/** An OSS object event record, as the OSS trigger (`events[]`) and EventBridge (`data`) carry it. */
export const ossRecordSchema = z.looseObject({
  eventName: z.string().check(z.minLength(1)),
  eventSource: z.literal('acs:oss'),
  eventTime: z.string().check(z.minLength(1)),
  eventVersion: z.optional(z.string()),
  region: z.string().check(z.minLength(1)),
  oss: z.looseObject({
    bucket: z.looseObject({ name: z.string().check(z.minLength(1)), arn: z.optional(z.string()), ownerIdentity: z.optional(z.string()) }),
    object: z.looseObject({
      key: z.string().check(z.minLength(1)),
      size: z.number().check(z.int(), z.nonnegative()),
      eTag: z.string().check(z.minLength(1)),
      deltaSize: z.optional(z.number().check(z.int())),
      objectMeta: z.optional(z.looseObject({ mimeType: z.optional(z.string()) })),
    }),
    ossSchemaVersion: z.optional(z.string()),
    ruleId: z.optional(z.string()),
  }),
  requestParameters: z.optional(z.looseObject({ sourceIPAddress: z.optional(z.string()) })),
  responseElements: z.optional(z.looseObject({ requestId: z.optional(z.string()) })),
  userIdentity: z.optional(z.looseObject({ principalId: z.optional(z.string()) })),
});
export type OssRecord = z.infer<typeof ossRecordSchema>;

/** FC OSS trigger payload: {"events": [record, ...]}. */
export const ossTriggerEventSchema = z.looseObject({ events: z.array(z.unknown()).check(z.minLength(1)) });

/** EventBridge CloudEvents 1.0 envelope around an OSS record (source acs.oss). */
export const ossCloudEventSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: z.string().check(z.minLength(1)),
  source: z.literal('acs.oss'),
  type: z.string().check(z.startsWith('oss:')),
  subject: z.optional(z.string()),
  time: z.optional(z.string()),
  aliyunregionid: z.optional(z.string()),
  data: ossRecordSchema,
});

/** OSS bucket naming rule: 3-63 lower-case letters, digits and hyphens, no hyphen at either end. */
export const OSS_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const bucketName = z.string().check(z.regex(OSS_BUCKET_NAME, 'must be an OSS bucket name'));
const objectKey = z.string().check(
  z.minLength(1),
  z.maxLength(1023),
  z.refine((key: string) => !key.startsWith('/'), 'must not start with "/"'),
);

/** `image` is {bucket, key}; a URL string there is what `imageUrl` is for, and the error says so. */
const IMAGE_AS_STRING = 'expected {"bucket", "key"}; for a URL use "imageUrl": {"imageUrl": "https://…"}';
const ossImageSchema = z.strictObject(
  { bucket: bucketName, key: objectKey },
  { error: (issue) => (issue.code === 'invalid_type' && typeof issue.input === 'string' ? IMAGE_AS_STRING : undefined) },
);

/** An https URL, judged exactly as given: zod's url() trims, so whitespace and controls are refused first (shared/domain/images/image-url.ts). */
const httpsUrl = z.pipe(
  z.string().check(
    z.maxLength(2048),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
    z.refine((value: string) => !/[\u0000-\u0020\u007f]/.test(value), 'must not contain control or whitespace characters'),
  ),
  z.url({ protocol: /^https$/, message: 'must be an https URL' }),
);

/** A job's fields as callers send them: the HTTP body and pipeline events share them. */
const jobRequestFields = {
  app: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  image: z.optional(ossImageSchema),
  imageUrl: z.optional(httpsUrl),
  productionId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  folderId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
};

/**
 * `POST /jobs`' own fields on top (the OpenAPI document's JobRequest): the caller's `metadata` (jobs/metadata.ts) and a
 * `webhookUrl` of the job's own (https, no credentials in it; its host is judged against WEBHOOK_ALLOWED_HOSTS by the
 * submit, lifecycle/job-webhook.ts).
 */
export const postJobFields = {
  ...jobRequestFields,
  metadata: z.optional(metadataSchema),
  webhookUrl: z.optional(
    httpsUrl.check(z.refine((value: string) => !/^https:\/\/[^/?#]*@/i.test(value), 'must not carry credentials (user:password@): deliveries are signed')),
  ),
};

/** Pipeline events only: a caller-chosen key that makes a redelivery submit nothing new. */
const idempotencyKeyField = z.optional(z.string().check(z.minLength(1), z.maxLength(256)));

const exactlyOneImage = z.refine<{ image?: unknown; imageUrl?: unknown }>((body) => (body.image === undefined) !== (body.imageUrl === undefined), {
  message: 'exactly one of "image" ({bucket, key}) or "imageUrl" is required',
  path: ['image'],
});

/** What pipeline events send: the job's fields and their idempotencyKey. */
export const jobRequestBodySchema = z.strictObject({ ...jobRequestFields, idempotencyKey: idempotencyKeyField }).check(exactlyOneImage);

/** `POST /jobs`: the same, with metadata and webhookUrl (the idempotencyKey field is taken as before; the header is the documented way). */
export const postJobBodySchema = z.strictObject({ ...postJobFields, idempotencyKey: idempotencyKeyField }).check(exactlyOneImage);
