import { randomUUID } from 'node:crypto';
import { APP_ALIASES, routedApp, unknownAppPrefix, type AppRegistry, type YikeApp } from '../jobs/apps';
import { assertImageSize, imageKeyRefusal } from '../images/image-object';
import { imageTypeOf } from '../images/image-bytes';
import type { Config } from '../../runtime/config';
import { YikeError } from '../../runtime/errors';
import * as z from '../../runtime/zod';
import { uploadTokenFolder } from '../budget/upload-token';
import { metadataSchema, presentMetadata } from '../jobs/metadata';
import { CONSENT_FIELD, consentFieldValue, METADATA_FIELD, METADATA_NAME_PREFIX, metadataFieldValue } from './upload-metadata';
import { consentRequestSchema, ticketUploadName, type JobConsent } from '../tickets/ticket';

/**
 * Browser uploads (`POST /uploads`, the page): the caller says what it wants to upload, and gets a plan for one
 * fresh object `uploads/<app>/<yyyy-mm-dd>/<uuid>.<ext>` in the upload bucket (the first ALLOWED_BUCKETS). The upload itself then goes straight
 * from the browser to OSS (PostObject), and the OSS trigger submits the job as for any other upload, so nothing
 * here calls ICE. Everything the OSS policy can enforce is enforced there too (key, Content-Type, size, expiry).
 */
const UPLOAD_KEY_PREFIX = 'uploads/';
/** How long the signed form works (the issue's 10 minutes; shorter when the role's STS token dies sooner). */
const UPLOAD_FORM_TTL_MS = 10 * 60 * 1000;
const MIN_FORM_TTL_MS = 60 * 1000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
/**
 * The Content-Type each usual image suffix must come with: the stored object is served from the bucket's domain
 * with this type, so `photo.png` may not be `image/svg+xml` (a script-capable document). Suffixes added through
 * IMAGE_SUFFIXES and not listed here take any image type but SVG.
 */
const TYPE_OF_SUFFIX: Readonly<Record<string, readonly string[]>> = {
  '.jpg': ['image/jpeg'],
  '.jpeg': ['image/jpeg'],
  '.png': ['image/png'],
  '.webp': ['image/webp'],
  '.gif': ['image/gif'],
  '.bmp': ['image/bmp'],
  '.heic': ['image/heic'],
  '.avif': ['image/avif'],
};
/** `type/subtype` as browsers report File.type; only image types are taken. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

export const uploadRequestSchema = z.strictObject({
  app: z.string().check(z.minLength(1), z.maxLength(128)),
  fileName: z.string().check(
    z.minLength(1),
    z.maxLength(255),
    z.refine((name: string) => !CONTROL_CHARACTER.test(name), 'must not contain control characters'),
  ),
  contentType: z.string().check(z.maxLength(128), z.regex(MEDIA_TYPE, 'must be a media type like image/png')),
  size: z.number().check(z.int(), z.gte(0)),
  /** The caller's own keys and values for the job (jobs/metadata.ts), bound into the signed form (upload-metadata.ts). */
  metadata: z.optional(metadataSchema),
});

export type UploadRequest = z.infer<typeof uploadRequestSchema>;

/** `POST /uploads` with a ticket: the same less `app` (the ticket names it), plus the person's `consent` (CONSENT_VERSION). */
export const ticketUploadRequestSchema = z.extend(z.omit(uploadRequestSchema, { app: true }), { consent: z.optional(consentRequestSchema) });

export interface UploadPlan {
  bucket: string;
  key: string;
  /** The name the key carries (`female`, `male`, or a YIKE_APPS AppId) and the app the trigger will submit. */
  appName: string;
  app: YikeApp;
  contentType: string;
  maxBytes: number;
  expiresAt: Date;
  /** The PostObject policy document (signed by the OSS adapter). */
  policy: { expiration: string; conditions: unknown[] };
  /** Form fields beyond the usual ones, each pinned by the policy: the metadata's `x-oss-meta-yike-metadata`. */
  fields: Record<string, string>;
}

type UploadConfig = Pick<Config, 'uploads' | 'records'>;

function refusal(code: string, statusCode: number, path: string, message: string): YikeError {
  return new YikeError(code, `${path}: ${message}`, { statusCode, details: [{ path, message }] });
}

/**
 * The names under which an app can be uploaded: `uploads/<name>/` must route (APP_ROUTES) to
 * that very app, or the trigger would submit the image to another one.
 */
function uploadNameFor(app: YikeApp, config: UploadConfig, apps: AppRegistry, requested?: string): string | undefined {
  const aliases = Object.entries(APP_ALIASES)
    .filter(([, appId]) => appId === app.appId)
    .map(([alias]) => alias);
  const candidates = [...new Set([...(requested ? [requested] : []), ...aliases, app.appId])];
  return candidates.find((name) => {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) return false;
    const routed = routedApp(`${UPLOAD_KEY_PREFIX}${name}/x`, config.uploads.appRoutes);
    if (routed === undefined) return false;
    try {
      return apps.resolve(routed).appId === app.appId;
    } catch {
      return false;
    }
  });
}

/** The name `requested`'s uploads carry, or APP_NOT_UPLOADABLE (`field`) when APP_ROUTES would send them to another app. */
function uploadName(app: YikeApp, requested: string, field: string, config: UploadConfig, apps: AppRegistry): string {
  const name = uploadNameFor(app, config, apps, requested);
  if (name) return name;
  throw refusal(
    'APP_NOT_UPLOADABLE',
    400,
    field,
    `uploads for "${requested}" would not be submitted to ${app.appId}: add an APP_ROUTES entry "${UPLOAD_KEY_PREFIX}${requested}/"`,
  );
}

/** The apps a browser can upload for, with the name each one's keys carry. */
export function uploadableApps(config: UploadConfig, apps: AppRegistry): { name: string; appId: string; description: string }[] {
  return apps.list().flatMap((app) => {
    const name = uploadNameFor(app, config, apps);
    return name ? [{ name, appId: app.appId, description: app.description }] : [];
  });
}

export interface PlanUploadOptions {
  now?: Date;
  /** When the role's STS token expires: the form never outlives it. */
  credentialsExpireAt?: Date;
  newId?: () => string;
  /** The name of the token (with a quota) that asked for the form: the key carries it, and the upload counts against it. */
  tokenName?: string;
  /** A ticket's upload number `upload` (tickets/ticket.ts): the key names both. */
  ticket?: { id: string; upload: number };
  /** The consent given with a ticketed upload: bound into the form beside the metadata. */
  consent?: JobConsent;
}

export function planUpload(request: UploadRequest, config: UploadConfig, apps: AppRegistry, options: PlanUploadOptions = {}): UploadPlan {
  const bucket = config.uploads.bucket;
  if (!bucket) {
    throw new YikeError('UPLOADS_NOT_CONFIGURED', 'Browser uploads need ALLOWED_BUCKETS (its first bucket takes them)', { statusCode: 503 });
  }
  const app = apps.resolve(request.app);
  const appName = uploadName(app, request.app, 'app', config, apps);
  const extension = /\.[A-Za-z0-9]{1,10}$/.exec(request.fileName)?.[0]?.toLowerCase();
  if (!extension || !config.uploads.imageSuffixes.includes(extension)) {
    throw refusal('NOT_AN_IMAGE', 415, 'fileName', `must end in one of ${config.uploads.imageSuffixes.join(', ')}`);
  }
  const contentType = request.contentType.toLowerCase();
  if (!contentType.startsWith('image/')) throw refusal('NOT_AN_IMAGE', 415, 'contentType', `is "${request.contentType}", not image/*`);
  const expected = TYPE_OF_SUFFIX[extension];
  if (expected ? !expected.includes(contentType) : contentType.startsWith('image/svg')) {
    throw refusal(
      'NOT_AN_IMAGE',
      415,
      'contentType',
      `is "${request.contentType}", which a ${extension} file is not${expected ? ` (expected ${expected.join(' or ')})` : ''}`,
    );
  }
  if (request.size === 0) throw refusal('NOT_AN_IMAGE', 415, 'size', 'the file is empty');
  const maxBytes = config.uploads.maxImageBytes;
  if (request.size > maxBytes) throw refusal('IMAGE_TOO_LARGE', 413, 'size', `${request.size} bytes; the limit is ${maxBytes}`);

  const metadata = presentMetadata(request.metadata);
  const fields: Record<string, string> = metadata ? { [METADATA_FIELD]: metadataFieldValue(metadata) } : {};
  if (options.consent) fields[CONSENT_FIELD] = consentFieldValue(options.consent);

  const now = options.now ?? new Date();
  const tokenFolder = options.tokenName === undefined ? '' : uploadTokenFolder(options.tokenName);
  // A name that says the form carried metadata: oss-submit HEADs only those uploads to read it.
  const name = options.ticket
    ? `${ticketUploadName(options.ticket.id, options.ticket.upload)}${extension}`
    : `${metadata ? METADATA_NAME_PREFIX : ''}${(options.newId ?? randomUUID)()}${extension}`;
  const key = `${UPLOAD_KEY_PREFIX}${appName}/${now.toISOString().slice(0, 10)}/${tokenFolder}${name}`;
  // Never under our own prefixes (a records prefix of "uploads/" would make the image a record).
  for (const prefix of [config.records.prefix, config.records.resultsPrefix]) {
    if (key.startsWith(prefix)) throw new YikeError('UPLOADS_NOT_CONFIGURED', `Upload keys would fall under "${prefix}"`, { statusCode: 503 });
  }
  let expiresAtMs = now.getTime() + UPLOAD_FORM_TTL_MS;
  if (options.credentialsExpireAt) expiresAtMs = Math.min(expiresAtMs, options.credentialsExpireAt.getTime());
  if (expiresAtMs - now.getTime() < MIN_FORM_TTL_MS) {
    throw new YikeError('CREDENTIALS_EXPIRING', "The function's STS credentials expire within a minute; try again", { statusCode: 503, retryable: true });
  }
  const expiresAt = new Date(expiresAtMs);
  return {
    bucket,
    key,
    appName,
    app,
    contentType,
    maxBytes,
    expiresAt,
    fields,
    policy: {
      expiration: expiresAt.toISOString(),
      // OSS stores x-oss-content-type over the file part's type over the Content-Type field: all three are pinned
      // (the browser's file part carries the same type). x-oss-forbid-overwrite makes the form good for one upload:
      // a leaked form cannot post again (each post would be a new eTag, so a new paid job).
      conditions: [
        { bucket },
        ['eq', '$key', key],
        ['eq', '$Content-Type', contentType],
        ['eq', '$x-oss-content-type', contentType],
        ['eq', '$x-oss-forbid-overwrite', 'true'],
        // The metadata's field exactly as signed: a browser that changes (or drops) it is refused by OSS.
        ...Object.entries(fields).map(([field, value]) => ['eq', `$${field}`, value]),
        ['content-length-range', 1, maxBytes],
      ],
    },
  };
}

/** A file on disk about to be uploaded (`npm run upload`): its name, size and first bytes (IMAGE_MAGIC_BYTES). */
export interface ImageFile {
  name: string;
  size: number;
  head: Uint8Array;
}

/**
 * The checks the upload function (and POST /uploads) would make, made before a byte is uploaded, with their codes and
 * messages: the app (`--app`, required without `--key`; unknown: UNKNOWN_APP), the key's APP_ROUTES route
 * (UNKNOWN_APP_PREFIX, APP_NOT_UPLOADABLE), the key (IMAGE_SUFFIXES, reserved prefixes: NOT_AN_IMAGE,
 * IMAGE_KEY_INVALID), the size (empty: NOT_AN_IMAGE; over the limit: IMAGE_TOO_LARGE), and the bytes' magic number
 * (NOT_AN_IMAGE), which only the file can tell: ICE's precheck would refuse it, after the upload.
 */
export function checkImageFile(
  file: ImageFile,
  target: { app?: string; key?: string },
  config: UploadConfig,
  apps: AppRegistry,
): { key: string; app: YikeApp; contentType: string } {
  const routes = config.uploads.appRoutes;
  let key: string;
  let app: YikeApp;
  if (target.key !== undefined) {
    key = target.key;
    const routed = routedApp(key, routes);
    if (routed === undefined) throw unknownAppPrefix(key, routes);
    app = apps.resolve(routed, 'APP_ROUTES');
    const asked = target.app === undefined ? undefined : apps.resolve(target.app, '--app');
    if (asked && asked.appId !== app.appId) {
      throw refusal('APP_NOT_UPLOADABLE', 400, '--key', `${key} would be submitted to ${app.appId} (APP_ROUTES), not to ${asked.appId}`);
    }
  } else {
    app = apps.require(target.app, '--app');
    key = `${UPLOAD_KEY_PREFIX}${uploadName(app, target.app!, '--app', config, apps)}/${file.name}`;
  }
  const suffixes = config.uploads.imageSuffixes;
  if (!suffixes.some((suffix) => key.toLowerCase().endsWith(suffix)))
    throw refusal('NOT_AN_IMAGE', 415, 'file', `${key} must end in one of ${suffixes.join(', ')}`);
  const keyProblem = imageKeyRefusal(key, config, 'key');
  if (keyProblem) throw keyProblem;
  if (file.size === 0) throw refusal('NOT_AN_IMAGE', 415, 'file', `${file.name} is empty`);
  assertImageSize(file.size, file.name, config.uploads.maxImageBytes);
  const contentType = imageTypeOf(file.head);
  if (!contentType) throw refusal('NOT_AN_IMAGE', 415, 'file', `${file.name} is not an image: its first bytes are no JPEG, PNG, GIF, WebP or BMP`);
  return { key, app, contentType };
}
