/**
 * The PostObject policy (V1): decoding the base64 JSON document and checking a form against it, as OSS does.
 *
 * Sources:
 * - [POLICY]   OSS "PostObject", section "Appendix: Policy" (https://www.alibabacloud.com/help/en/oss/developer-reference/postobject):
 *              expiration (ISO 8601, GMT) and conditions (required); exact-match maps, eq, starts-with, in, not-in,
 *              content-length-range; field names case-insensitive.
 * - [PERRORS]  "Errors and troubleshooting methods of PostObject"
 *              (https://www.alibabacloud.com/help/en/oss/how-to-handle-common-errors-when-the-postobject-operation-is-called):
 *              AccessDenied "Invalid according to Policy: Policy expired.", InvalidPolicyDocument "Invalid Policy:
 *              Invalid Simple-Condition: Simple-Conditions must have exactly one property specified." (a policy
 *              without conditions).
 * - [EC]       OSS error centre: 0006-00000227 (a failed condition: AccessDenied, message "Invalid according to Policy:
 *              Policy Condition failed: [...]", https://help.aliyun.com/en/oss/user-guide/0006-00000227),
 *              0006-00000214 (conditions not an array), 0006-00000222 (a condition neither map nor list),
 *              0006-00000223 (content-length-range not two integers), 0006-00000224 (in/not-in need a list),
 *              0006-00000226 (a field a condition names is missing from the form: refused; that page gives no code or
 *              message, so it gets 0006-00000227's AccessDenied here, unverified). An x-oss-meta-* field is checked like
 *              any other: a form whose metadata field was changed or dropped fails its eq condition.
 * Codes and messages not named above are unverified (S3's wording where OSS's was not found).
 */
import { OssRequestError } from './request-error';

/** A form as OSS reads it: field names lower-cased, first value wins. */
export type FormFields = ReadonlyMap<string, string>;

type PolicyCondition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string; source: string }
  | { kind: 'in' | 'not-in'; field: string; values: string[]; source: string }
  | { kind: 'content-length-range'; min: number; max: number; source: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

/** What the conditions are checked against: the form, the bucket the form was posted to, and the file's size. */
export interface PolicySubject {
  fields: FormFields;
  bucket: string;
  fileSize: number;
}

const invalidPolicy = (message: string) => new OssRequestError(400, 'InvalidPolicyDocument', `Invalid Policy: ${message}`);
const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes the policy form field; any defect is InvalidPolicyDocument (400). */
export function parsePostPolicy(encoded: string): PostPolicy {
  if (!STRICT_BASE64.test(encoded) || encoded.length % 4 !== 0) throw invalidPolicy('Invalid Base64 encoding.');
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (conditions === undefined) {
    throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
  }
  if (!Array.isArray(conditions)) throw invalidPolicy('Conditions must be a list.');
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const expiresAt = parseIsoUtc(expiration);
  if (expiresAt === undefined)
    throw invalidPolicy(`Invalid expiration ${JSON.stringify(expiration)}: expected ISO 8601 in GMT, e.g. 2030-01-01T12:00:00.000Z.`);
  return { expiration: expiresAt, conditions: conditions.map(parseCondition) };
}

/** Throws the error OSS answers for the first condition the form does not meet, or for an expired policy. */
export function checkPostPolicy(policy: PostPolicy, subject: PolicySubject, now: Date = new Date()): void {
  if (now.getTime() > policy.expiration.getTime()) {
    throw new OssRequestError(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
  }
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      if (subject.fileSize > condition.max) {
        throw new OssRequestError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', {
          ProposedSize: String(subject.fileSize),
          MaxSizeAllowed: String(condition.max),
        });
      }
      if (subject.fileSize < condition.min) {
        throw new OssRequestError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.', {
          ProposedSize: String(subject.fileSize),
          MinSizeAllowed: String(condition.min),
        });
      }
      continue;
    }
    const actual = fieldValue(subject, condition.field);
    if (!conditionHolds(condition, actual)) {
      throw new OssRequestError(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${condition.source}`);
    }
  }
}

function conditionHolds(condition: Exclude<PolicyCondition, { kind: 'content-length-range' }>, actual: string | undefined): boolean {
  switch (condition.kind) {
    case 'eq':
      return actual === condition.value;
    case 'starts-with':
      return actual?.startsWith(condition.value) === true;
    case 'in':
      return actual !== undefined && condition.values.includes(actual);
    case 'not-in':
      return actual === undefined || !condition.values.includes(actual);
  }
}

/** "bucket" is the bucket the form was posted to; every other name is a form field, compared case-insensitively [POLICY]. */
function fieldValue(subject: PolicySubject, field: string): string | undefined {
  return field === 'bucket' ? subject.bucket : subject.fields.get(field);
}

function parseCondition(raw: unknown): PolicyCondition {
  if (Array.isArray(raw)) return parseListCondition(raw);
  if (typeof raw === 'object' && raw !== null) {
    const entries = Object.entries(raw);
    if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    const [[name, value]] = entries as [[string, unknown]];
    if (typeof value !== 'string') throw invalidPolicy(`Invalid Simple-Condition: the value of ${JSON.stringify(name)} must be a string.`);
    const field = name.replace(/^\$/, '').toLowerCase();
    return { kind: 'eq', field, value, source: formatCondition('eq', `$${name.replace(/^\$/, '')}`, value) };
  }
  throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}: each condition must be a map or a list.`);
}

function parseListCondition(raw: unknown[]): PolicyCondition {
  const [operator, second, third] = raw;
  if (typeof operator !== 'string') throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}.`);
  const op = operator.toLowerCase();
  if (op === 'content-length-range') {
    if (raw.length !== 3 || !isLength(second) || !isLength(third) || second > third) {
      throw invalidPolicy(`Invalid content-length-range ${JSON.stringify(raw)}: expected ["content-length-range", min, max] with integers 0 <= min <= max.`);
    }
    return { kind: 'content-length-range', min: second, max: third, source: `["content-length-range", ${second}, ${third}]` };
  }
  if (op !== 'eq' && op !== 'starts-with' && op !== 'in' && op !== 'not-in') {
    throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}: unknown operator ${JSON.stringify(operator)}.`);
  }
  if (raw.length !== 3 || typeof second !== 'string' || !second.startsWith('$')) {
    throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}: expected [${JSON.stringify(op)}, "$field", value].`);
  }
  const field = second.slice(1).toLowerCase();
  if (op === 'in' || op === 'not-in') {
    if (!Array.isArray(third) || !third.every((value): value is string => typeof value === 'string')) {
      throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}: ${op} needs a list of strings.`);
    }
    return { kind: op, field, values: third, source: formatCondition(op, second, third) };
  }
  if (typeof third !== 'string') throw invalidPolicy(`Invalid condition ${JSON.stringify(raw)}: the value must be a string.`);
  return { kind: op, field, value: third, source: formatCondition(op, second, third) };
}

/** As [EC] 0006-00000227 prints a condition: ["eq", "$success_action_status", "200"]. */
function formatCondition(op: string, field: string, value: string | string[]): string {
  const rendered = Array.isArray(value) ? `[${value.map((item) => JSON.stringify(item)).join(', ')}]` : JSON.stringify(value);
  return `[${JSON.stringify(op)}, ${JSON.stringify(field)}, ${rendered}]`;
}

function isLength(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** ISO 8601 with a date, a time and an explicit UTC "Z" (fractional seconds optional), as the policy requires. */
function parseIsoUtc(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isNaN(time) ? undefined : new Date(time);
}
