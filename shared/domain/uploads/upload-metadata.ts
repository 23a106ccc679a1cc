import { YikeError } from '../../runtime/errors';
import { metadataSchema, type JobMetadata } from '../jobs/metadata';
import { jobConsentSchema, type JobConsent } from '../tickets/ticket';

/**
 * A browser upload's metadata (`POST /uploads` `metadata`) travels with its signed form, so the browser cannot change
 * it: the form carries it as the object's user metadata `x-oss-meta-yike-metadata`, and the policy pins that field
 * with an exact-match condition (OSS refuses a form whose field differs: AccessDenied "Invalid according to Policy:
 * Policy Condition failed", https://help.aliyun.com/en/oss/user-guide/0006-00000227). OSS's trigger event does not
 * carry user metadata, so oss-submit reads it back with one HEAD, only for uploads whose form carried some: their
 * names start with `meta-` (`uploads/<app>/<day>/[token-<name>/]meta-<uuid>.<ext>`), so the usual upload costs nothing.
 *
 * The value is the lower-case hex of the metadata's UTF-8 JSON: OSS documents user metadata values as letters, digits
 * and hyphens only, upper case folded to lower (https://help.aliyun.com/en/oss/user-guide/0011-00000005), and all
 * user metadata of an object, names and values, under 8 KB (https://help.aliyun.com/en/oss/user-guide/0011-00000002).
 */
export const METADATA_FIELD = 'x-oss-meta-yike-metadata';
/** The same, as a HEAD answers it (x-oss-meta- taken off, lower case). */
const USER_METADATA_NAME = METADATA_FIELD.slice('x-oss-meta-'.length);
const MAX_USER_METADATA_BYTES = 8 * 1024;
/** What an upload's file name starts with when its form carried metadata. */
export const METADATA_NAME_PREFIX = 'meta-';
const METADATA_NAME = /(?:^|\/)meta-[^/]+$/;

/** The form field's value for this metadata; a 400 naming `metadata` when OSS could not keep it. */
export function metadataFieldValue(metadata: JobMetadata): string {
  const value = Buffer.from(JSON.stringify(metadata), 'utf8').toString('hex');
  if (METADATA_FIELD.length + value.length >= MAX_USER_METADATA_BYTES) {
    const most = Math.floor((MAX_USER_METADATA_BYTES - 1 - METADATA_FIELD.length) / 2);
    const message = `a browser upload keeps its metadata in the object's user metadata, which OSS limits to 8 KB: this metadata is ${value.length / 2} bytes as JSON, at most ${most} fit`;
    throw new YikeError('METADATA_TOO_LARGE', `metadata: ${message}`, { statusCode: 400, details: [{ path: 'metadata', message }] });
  }
  return value;
}

/**
 * A ticketed upload's consent (`{version, acceptedAt}`, tickets/ticket.ts) travels the same way, in its own field
 * `x-oss-meta-yike-consent` (the same hex of its JSON, pinned by the policy), so the job it makes keeps it.
 */
export const CONSENT_FIELD = 'x-oss-meta-yike-consent';
const USER_CONSENT_NAME = CONSENT_FIELD.slice('x-oss-meta-'.length);

export const consentFieldValue = (consent: JobConsent): string => Buffer.from(JSON.stringify(consent), 'utf8').toString('hex');

/** The consent an uploaded object's user metadata holds, or undefined (none, or not what a form of ours wrote). */
export function consentOfObject(userMetadata: Readonly<Record<string, string>>): JobConsent | undefined {
  const value = userMetadata[USER_CONSENT_NAME];
  if (value === undefined || !/^([0-9a-f]{2})+$/.test(value)) return undefined;
  try {
    return jobConsentSchema.safeParse(JSON.parse(Buffer.from(value, 'hex').toString('utf8'))).data;
  } catch {
    return undefined;
  }
}

/** Whether an upload's key says its form carried metadata (worth a HEAD). */
export function carriesMetadata(key: string): boolean {
  return METADATA_NAME.test(key);
}

/**
 * The metadata an uploaded object's user metadata holds (from its HEAD), or undefined when it holds none. A value that
 * is not what a form of ours puts there is METADATA_INVALID: the object was written by someone with the bucket's keys.
 */
export function metadataOfObject(userMetadata: Readonly<Record<string, string>>, source: string): JobMetadata | undefined {
  const value = userMetadata[USER_METADATA_NAME];
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = /^([0-9a-f]{2})*$/.test(value) ? JSON.parse(Buffer.from(value, 'hex').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const checked = metadataSchema.safeParse(parsed);
  if (!checked.success) throw new YikeError('METADATA_INVALID', `${source}: its ${METADATA_FIELD} is not metadata a form of ours wrote`);
  return checked.data;
}
