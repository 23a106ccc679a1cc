/**
 * PostObject for the local OSS server: a browser form (multipart/form-data) posted to the bucket, carrying its own
 * authorization (V1: OSSAccessKeyId, policy, Signature = base64(HMAC-SHA1(AccessKeySecret, policy)), and
 * x-oss-security-token for STS keys). This module reads and checks the form as OSS does; the server stores the file
 * and answers (server.ts).
 *
 * Sources:
 * - [POST]     OSS "PostObject" (https://www.alibabacloud.com/help/en/oss/developer-reference/postobject): form fields,
 *              case-insensitive names, `file` last (fields after it ignored), `key` with ${filename}, x-oss-meta-*,
 *              success_action_status 200/201/204 (default 204; 201 answers a PostResponse XML), x-oss-content-type;
 *              "A request that does not contain the policy form field is considered as an anonymous request".
 *              Content type priority: x-oss-content-type > the file part's Content-Type > the Content-Type field.
 *              x-oss-meta-* fields are checked against the policy like any field (an eq condition pins one) and are
 *              held to PutObject's 8 KB of user metadata (object-headers.ts).
 * - [PERRORS]  "Errors and troubleshooting methods of PostObject": MalformedPOSTRequest "The body of your POST request
 *              is not well-formed multipart/form-data.", InvalidAccessKeyId for an STS key without its token.
 * - [EC]       0002-00000702 (policy missing while signed), 0002-00000704 (Signature blank), 0002-00000706 / -707
 *              (OSSAccessKeyId missing / empty), 0006-00000104 (file missing or not last), 0006-00000205 (policy
 *              blank). These pages name the faults, not the codes: the codes chosen below are marked unverified.
 * - Signature and token checks reuse signature.ts (the same InvalidAccessKeyId / InvalidSecurityToken /
 *   SecurityTokenExpired answers as header-signed requests).
 */
import type { IncomingMessage } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readBody } from '../http';
import { MalformedMultipartError, multipartBoundary, parseMultipartForm, type FormPart } from './multipart-form';
import { checkPostPolicy, parsePostPolicy, type FormFields } from './post-policy';
import { checkUserMetaSize } from './object-headers';
import { OssRequestError } from './request-error';
import { checkCredential, type CredentialLookup } from './signature';

/** The form's fields beyond the file are small; this much on top of the file limit is allowed for them. */
const FORM_FIELDS_ALLOWANCE_BYTES = 1024 * 1024;
// biome-ignore lint/suspicious/noTemplateCurlyInString: PostObject's own placeholder, replaced by the file's name
const FILENAME_PLACEHOLDER = '${filename}';
const USER_META_PREFIX = 'x-oss-meta-';
const SUCCESS_STATUSES = new Set([200, 201, 204]);
const DEFAULT_SUCCESS_STATUS = 204;
const MAX_KEY_BYTES = 1023;
const SIGNATURE_FIELDS = ['ossaccesskeyid', 'policy', 'signature'] as const;

export interface PostObjectContext {
  bucket: string;
  /** Most an object may be; the body may exceed it by the form fields' allowance. */
  maxFileBytes: number;
  lookupSecret: CredentialLookup;
  /** Whether the bucket lets anonymous users write (ACL public-read-write); none of the local buckets do. */
  anonymousWrite: boolean;
  /** Told how the form authorizes itself (and with which AccessKey) as soon as its fields are read, so a refusal is recorded with it. */
  onAuthMode?: (auth: 'form' | 'anonymous', accessKeyId?: string) => void;
  now?: Date;
}

/** A checked form, ready to be stored. */
export interface PostObjectUpload {
  key: string;
  data: Buffer;
  contentType: string | undefined;
  /** x-oss-meta-* fields, lower-case names. */
  userMeta: Record<string, string>;
  successActionStatus: 200 | 201 | 204;
  forbidOverwrite: boolean;
  /** 'form' when the form was signed, 'anonymous' when it was not. */
  auth: 'form' | 'anonymous';
}

const malformed = () => new OssRequestError(400, 'MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');

/** Whether a POST to the bucket is a PostObject form (rather than some other POST the server does not implement). */
export function isPostObjectRequest(contentType: string): boolean {
  return multipartBoundary(contentType) !== undefined;
}

/** Reads the whole form and checks it as OSS does; throws OssRequestError with OSS's answer when it is refused. */
export async function readPostObject(req: IncomingMessage, context: PostObjectContext): Promise<PostObjectUpload> {
  const boundary = multipartBoundary(headerText(req.headers['content-type']));
  if (boundary === undefined) throw malformed();
  const body = await readBody(req, context.maxFileBytes + FORM_FIELDS_ALLOWANCE_BYTES);
  if (body === undefined) throw tooLarge(context.maxFileBytes);
  let parts: FormPart[];
  try {
    parts = parseMultipartForm(body, boundary);
  } catch (error) {
    if (error instanceof MalformedMultipartError) throw malformed();
    throw error;
  }

  // [POST]: `file` is the last field that counts; anything after it is ignored.
  const fileIndex = parts.findIndex((part) => part.name.toLowerCase() === 'file');
  // Unverified code: [EC] 0006-00000104 names a missing file (or one that is not last) as a malformed form.
  if (fileIndex === -1) throw malformed();
  const file = parts[fileIndex] as FormPart;
  const fields = formFields(parts.slice(0, fileIndex));
  if (file.data.length > context.maxFileBytes) throw tooLarge(context.maxFileBytes);

  context.onAuthMode?.(SIGNATURE_FIELDS.some((name) => fields.has(name)) ? 'form' : 'anonymous', fields.get('ossaccesskeyid'));
  const auth = authorize(fields, context);
  const rawKey = fields.get('key');
  if (auth === 'form') {
    const policy = parsePostPolicy(fields.get('policy') ?? '');
    checkPostPolicy(policy, { fields, bucket: context.bucket, fileSize: file.data.length }, context.now);
  }
  if (rawKey === undefined || rawKey === '') {
    // Unverified: S3's answer to a form without a key; OSS's wording was not found.
    throw new OssRequestError(
      400,
      'InvalidArgument',
      "Bucket POST must contain a field named 'key'. If it is specified, please check the order of the fields.",
      {
        ArgumentName: 'key',
      },
    );
  }
  const key = rawKey.split(FILENAME_PLACEHOLDER).join(file.filename ?? '');
  if (key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES || key.startsWith('/') || key.startsWith('\\')) {
    throw new OssRequestError(400, 'InvalidObjectName', 'The specified object is not valid.', { ObjectName: key });
  }
  return {
    key,
    data: file.data,
    contentType: fields.get('x-oss-content-type') ?? file.contentType ?? fields.get('content-type'),
    userMeta: checkUserMetaSize(userMetaOf(fields)),
    successActionStatus: successStatusOf(fields.get('success_action_status')),
    forbidOverwrite: (fields.get('x-oss-forbid-overwrite') ?? '').toLowerCase() === 'true',
    auth,
  };
}

/**
 * OSSAccessKeyId, policy and Signature come together [POST]: none of them makes the upload anonymous (refused unless
 * the bucket is public-read-write), any one of them requires the others, then the key, its token and the signature
 * over the base64 policy are checked.
 */
function authorize(fields: FormFields, context: PostObjectContext): 'form' | 'anonymous' {
  const present = SIGNATURE_FIELDS.filter((name) => fields.has(name));
  if (present.length === 0) {
    if (context.anonymousWrite) return 'anonymous';
    // Unverified message (OSS's 403 page lists "Anonymous user has no right to access this bucket").
    throw new OssRequestError(403, 'AccessDenied', 'You have no right to access this bucket because of bucket acl.');
  }
  for (const name of SIGNATURE_FIELDS) {
    const value = fields.get(name);
    if (value === undefined || value === '') {
      // Unverified code and wording: [EC] 0002-00000702/-704/-706/-707 and 0006-00000205 name these faults only.
      const fieldName = { ossaccesskeyid: 'OSSAccessKeyId', policy: 'policy', signature: 'Signature' }[name];
      throw new OssRequestError(
        400,
        'InvalidArgument',
        `Bucket POST must contain a field named '${fieldName}'. If it is specified, please check the order of the fields.`,
        {
          ArgumentName: fieldName,
        },
      );
    }
  }
  const accessKeyId = fields.get('ossaccesskeyid') as string;
  const policy = fields.get('policy') as string;
  const signature = fields.get('signature') as string;
  const checked = checkCredential(accessKeyId, fields.get('x-oss-security-token'), context.lookupSecret, context.now ?? new Date());
  if (!checked.ok) {
    const { status, code, message, details } = checked.failure;
    throw new OssRequestError(status, code, message, details);
  }
  const expected = Buffer.from(createHmac('sha1', checked.credential.accessKeySecret).update(policy, 'utf8').digest('base64'));
  const actual = Buffer.from(signature);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    // [PERRORS] lists this answer under the code AccessDenied with a message starting "SignatureDoesNotMatch"; the
    // code here is the one OSS gives header signatures (unverified for PostObject). The string to sign is the policy.
    throw new OssRequestError(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        StringToSign: policy,
        OSSAccessKeyId: accessKeyId,
      },
    );
  }
  return 'form';
}

/** Field names are case-insensitive [POST]; the first of a repeated field wins. */
function formFields(parts: FormPart[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of parts) {
    const name = part.name.toLowerCase();
    if (!fields.has(name)) fields.set(name, part.data.toString('utf8'));
  }
  return fields;
}

function userMetaOf(fields: FormFields): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of fields) {
    // Stored as the header bytes would be (one character per byte), like PutObject's metadata.
    if (name.startsWith(USER_META_PREFIX)) meta[name] = Buffer.from(value, 'utf8').toString('latin1');
  }
  return meta;
}

/** [POST]: 200, 201 or 204; anything else (or nothing) answers 204. */
function successStatusOf(value: string | undefined): 200 | 201 | 204 {
  const status = Number(value);
  return SUCCESS_STATUSES.has(status) ? (status as 200 | 201 | 204) : DEFAULT_SUCCESS_STATUS;
}

function tooLarge(maxFileBytes: number): OssRequestError {
  return new OssRequestError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', { MaxSizeAllowed: String(maxFileBytes) });
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
