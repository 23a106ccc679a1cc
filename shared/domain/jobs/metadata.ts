import * as z from '../../runtime/zod';

/**
 * A job's metadata: the caller's own keys and values (`POST /jobs` and `POST /uploads` `metadata`, e.g. which of its
 * users a job is for), kept in the job record and returned wherever the job is (GET /jobs/{jobId}, the webhook, the
 * result object, the next function's event). The limits are OpenAI's Videos API's: at most 16 keys, keys of at most
 * 64 characters and values of at most 512.
 */
export type JobMetadata = Record<string, string>;

const MAX_KEYS = 16;
const MAX_KEY_LENGTH = 64;
const MAX_VALUE_LENGTH = 512;

const MESSAGE = `must be an object of at most ${MAX_KEYS} string keys (1-${MAX_KEY_LENGTH} characters) and string values (at most ${MAX_VALUE_LENGTH} characters)`;

/** The keys are judged on the object as given (JSON may hold a "__proto__" key that a copy would drop silently). */
const keysChecked = z
  .custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), MESSAGE)
  .check(
    z.superRefine((input: Record<string, unknown>, ctx) => {
      const keys = Object.keys(input);
      if (keys.length > MAX_KEYS) ctx.issues.push({ code: 'custom', message: `at most ${MAX_KEYS} keys (${keys.length} given)`, input });
      for (const key of keys) {
        if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
          ctx.issues.push({ code: 'custom', message: `keys must be 1-${MAX_KEY_LENGTH} characters (this one has ${key.length})`, input: key, path: [key] });
        } else if (key === '__proto__') ctx.issues.push({ code: 'custom', message: 'is not a key metadata can hold', input: key, path: [key] });
      }
    }),
  );

export const metadataSchema = z.pipe(
  keysChecked,
  z.record(z.string(), z.string('must be a string').check(z.maxLength(MAX_VALUE_LENGTH, `must be at most ${MAX_VALUE_LENGTH} characters`))),
);

/** Metadata with no key is no metadata: records and forms carry it only when it says something. */
export function presentMetadata(metadata: JobMetadata | undefined): JobMetadata | undefined {
  return metadata && Object.keys(metadata).length > 0 ? metadata : undefined;
}
