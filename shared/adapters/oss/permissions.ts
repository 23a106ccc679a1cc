import type { RamGrant } from '../ram-grant';

/**
 * What the OSS adapters send, as the RAM actions OSS authorizes them with (OSS "Authorization syntax and elements":
 * HeadObject and GetObject are oss:GetObject, PutObject and PostObject oss:PutObject; docs/platform-facts.md, "RAM and
 * ROS"). A URL or a PostObject form signed with the role's credentials is authorized as the role, whoever sends it.
 */
export const OSS_GRANTS: readonly RamGrant[] = [
  { action: 'oss:GetObject', on: { objects: 'uploads' }, by: 'image-objects.ts head (HeadObject) and signedUrl: the image checks, IMAGE_URL_MODE=signed' },
  {
    action: 'oss:GetObject',
    on: { objects: 'eventbridge-uploads' },
    by: "image-objects.ts head and signedUrl for oss-submit-eventbridge's images",
  },
  { action: 'oss:PutObject', on: { objects: 'uploads' }, by: "post-form.ts signPostObjectForm: the page's browser uploads (POST /uploads)" },
  { action: 'oss:PutObject', on: { objects: 'records' }, by: 'record-store.ts createIfAbsent and put: claims, job records, markers, budget slots' },
  { action: 'oss:GetObject', on: { objects: 'records' }, by: 'record-store.ts get' },
  { action: 'oss:DeleteObject', on: { objects: 'records' }, by: 'record-store.ts delete: in-flight markers of settled jobs' },
  { action: 'oss:ListObjects', on: { listing: 'records' }, by: "record-store.ts list: the watcher's in-flight markers, the deferred line" },
  { action: 'oss:PutObject', on: { objects: 'results' }, by: 'record-store.ts put (result objects) and result-copier.ts copy (output copies)' },
  { action: 'oss:GetObject', on: { objects: 'results' }, by: "signed-urls.ts: an own copy's signed playUrl" },
  { action: 'oss:ListObjects', on: { listing: 'uploads' }, by: "buckets.ts recent: the doctor's newest upload" },
  { action: 'oss:ListObjects', on: { listing: 'eventbridge-uploads' }, by: "buckets.ts recent: oss-submit-eventbridge's doctor's newest upload" },
  // Erasure (DELETE /jobs/{jobId}, yike-jobs erase, RETENTION_DAYS): the upload (after record-store.ts eTagOf, a
  // HeadObject, checked it is the version the job was made from), its own copies and its result object.
  { action: 'oss:DeleteObject', on: { objects: 'uploads' }, by: "record-store.ts delete: an erased job's upload" },
  { action: 'oss:DeleteObject', on: { objects: 'eventbridge-uploads' }, by: "record-store.ts delete: an erased job's EventBridge upload" },
  { action: 'oss:DeleteObject', on: { objects: 'results' }, by: "record-store.ts delete: an erased job's own copies and result object" },
  { action: 'oss:ListObjects', on: { listing: 'results' }, by: "record-store.ts list: an erased job's copy folder, copies its record does not name" },
  { action: 'oss:GetBucketLocation', on: { bucket: true }, by: "buckets.ts region: the doctor's bucket-region check" },
];
