import { z } from 'zod';

/**
 * One zod schema per event source, built from the documented payloads in ../shared/reference/events.
 * Only what we use is required; the rest passes through untouched.
 */

/** An OSS object event record, as the OSS trigger (`events[]`) and EventBridge (`data`) carry it. */
export const ossRecordSchema = z.looseObject({
  eventName: z.string().min(1),
  eventSource: z.literal('acs:oss'),
  eventTime: z.string().min(1),
  eventVersion: z.string().optional(),
  region: z.string().min(1),
  oss: z.looseObject({
    bucket: z.looseObject({ name: z.string().min(1), arn: z.string().optional(), ownerIdentity: z.string().optional() }),
    object: z.looseObject({
      key: z.string().min(1),
      size: z.number().int().nonnegative(),
      eTag: z.string().min(1),
      deltaSize: z.number().int().optional(),
      objectMeta: z.looseObject({ mimeType: z.string().optional() }).optional(),
    }),
    ossSchemaVersion: z.string().optional(),
    ruleId: z.string().optional(),
  }),
  requestParameters: z.looseObject({ sourceIPAddress: z.string().optional() }).optional(),
  responseElements: z.looseObject({ requestId: z.string().optional() }).optional(),
  userIdentity: z.looseObject({ principalId: z.string().optional() }).optional(),
});
export type OssRecord = z.infer<typeof ossRecordSchema>;

/** FC OSS trigger payload: {"events": [record, ...]}. */
export const ossTriggerEventSchema = z.looseObject({ events: z.array(z.unknown()).min(1) });

/** EventBridge CloudEvents 1.0 envelope around an OSS record (source acs.oss). */
export const ossCloudEventSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.literal('acs.oss'),
  type: z.string().startsWith('oss:'),
  subject: z.string().optional(),
  time: z.string().optional(),
  aliyunregionid: z.string().optional(),
  data: ossRecordSchema,
});

/** OSS bucket naming rule: 3-63 lower-case letters, digits and hyphens, no hyphen at either end. */
export const OSS_BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const bucketName = z.string().regex(OSS_BUCKET_NAME, 'must be an OSS bucket name');
const objectKey = z.string().min(1).max(1023).refine((key) => !key.startsWith('/'), 'must not start with "/"');

export const ossImageSchema = z.strictObject({ bucket: bucketName, key: objectKey });

/** What callers send: the HTTP body and pipeline events share it. */
export const jobRequestBodySchema = z
  .strictObject({
    app: z.string().min(1).max(128).optional(),
    image: ossImageSchema.optional(),
    // zod's url() trims: refuse whitespace/controls first so nothing but the exact string is judged (shared/image-url.ts).
    imageUrl: z
      .string()
      .max(2048)
      .refine((value) => !/[\u0000-\u0020\u007f]/.test(value), 'must not contain control or whitespace characters')
      .pipe(z.url({ protocol: /^https$/, message: 'must be an https URL' }))
      .optional(),
    productionId: z.string().min(1).max(128).optional(),
    folderId: z.string().min(1).max(128).optional(),
    /** Pipeline events only: a caller-chosen key that makes a redelivery submit nothing new. */
    idempotencyKey: z.string().min(1).max(256).optional(),
  })
  .refine((body) => (body.image === undefined) !== (body.imageUrl === undefined), {
    message: 'exactly one of "image" ({bucket, key}) or "imageUrl" is required',
    path: ['image'],
  });
export type JobRequestBody = z.infer<typeof jobRequestBodySchema>;
