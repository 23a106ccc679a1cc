/** An error the page shows: the API's code (or the page's own, e.g. NETWORK), and the HTTP status when it has one. */
export interface PageError extends Error {
  code: string;
  status?: number;
}

/** What the page reads of anything thrown: its own errors, or whatever else a call threw. */
type Thrown = Partial<Pick<PageError, 'code' | 'message' | 'status'>>;

export function fail(code: string, message: string): PageError {
  const error = new Error(message) as PageError;
  error.code = code;
  return error;
}

function fieldsOf(error: unknown): Thrown {
  return typeof error === 'object' && error !== null ? (error as Thrown) : {};
}

export function codeOf(error: unknown): string | undefined {
  return fieldsOf(error).code;
}

/** The service could not be reached, or answered 5xx: worth asking again. */
export function isTransient(error: unknown): boolean {
  const { code, status } = fieldsOf(error);
  return code === 'NETWORK' || (status ?? 0) >= 500;
}

/** Plain words for the codes the API answers with. */
const WORDS: Record<string, string> = {
  UNAUTHORIZED: 'The access token was not accepted. Check it and connect again.',
  AUTH_NOT_CONFIGURED: 'This service has no access tokens configured yet (AUTH_TOKENS), so it accepts nothing.',
  NOT_AN_IMAGE: 'That file is not an image this service takes.',
  IMAGE_TOO_LARGE: 'That image is too large.',
  IMAGE_NOT_ALLOWED: "That image is not on this service's allowlist.",
  IMAGE_KEY_INVALID: 'That image name is not allowed.',
  APP_NOT_UPLOADABLE: 'That app is not set up for uploads here.',
  UNKNOWN_APP: 'That app is not known here.',
  UPLOADS_NOT_CONFIGURED: 'Uploads are not configured on this service (ALLOWED_BUCKETS).',
  PRECHECK_FAILED: 'ICE refused the image before making anything (no charge).',
  IMAGE_BLOCKED: "ICE's content audit blocked the image.",
  JOB_FAILED: 'ICE could not make the video.',
  JOB_TIMED_OUT: 'The job did not finish in time.',
  UPLOAD_REFUSED: 'The bucket refused the upload.',
  BUDGET_EXHAUSTED: "Today's budget of jobs is spent.",
  QUOTA_EXHAUSTED: 'This access token has no jobs left today.',
  CORS_BLOCKED: "The browser blocked the bucket's answer: the bucket has no CORS rule for this page's origin.",
  NETWORK: 'The service could not be reached.',
};

/** The error in plain words, then its own message, then its code. */
export function describe(error: unknown): string {
  const { code: given, message } = fieldsOf(error);
  const code = given || 'ERROR';
  const words = WORDS[code];
  const detail = message && message !== words ? ` ${message}` : '';
  return `${words || 'Something went wrong.'}${detail} (${code})`;
}
