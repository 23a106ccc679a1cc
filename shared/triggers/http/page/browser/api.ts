import { fail, type PageError } from './errors';

/** What the page reads of the service's answers (the routes are in shared/triggers/http/, docs/http-api.md). */
export interface AppsAnswer {
  apps: { name: string; appId: string; description: string }[];
  imageSuffixes: string[];
  maxImageBytes: number;
}

export interface UsageAnswer {
  limit: number | null;
  remaining: number | null;
  resetsAt: string;
  tokens?: { limit: number; used: number }[];
}

export interface UploadForm {
  bucket: string;
  key: string;
  url: string;
  fields: Record<string, string>;
}

interface ErrorBody {
  code?: string;
  message?: string;
  details?: { resetsAt?: string };
}

/** GET /jobs/by-object: the upload's submit record (IN_PROGRESS, COMPLETED with its job, DEFERRED, or failed). */
export interface SubmitRecord {
  status: string;
  jobId?: string;
  appId?: string;
  startedAt?: string;
  error?: ErrorBody;
}

/** GET /jobs/{jobId}: the job's lifecycle. */
export interface JobView {
  jobId: string;
  status: string;
  terminal: boolean;
  updatedAt?: string;
  executionStartTime?: string;
  executionFinishTime?: string;
  results?: { outputUrl?: string }[];
  error?: ErrorBody;
  copy?: 'pending' | 'failed';
  playUrl?: string;
  playUrlExpiresAt?: string;
}

/** The access token every call carries (set by Connect). */
let bearerToken = '';

export function setToken(token: string): void {
  bearerToken = token;
}

/** A call to the service (paths are relative to the page); a refusal throws its code, message and status. */
export async function api<Answer>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { Authorization: `Bearer ${bearerToken}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw fail('NETWORK', '');
  }
  let data: unknown = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error: ErrorBody = (data as { error?: ErrorBody } | null)?.error || {};
    const refusal: PageError = fail(error.code || `HTTP_${response.status}`, error.message || '');
    refusal.status = response.status;
    throw refusal;
  }
  return data as Answer;
}

/** POST /jobs/{jobId}/share: a link anyone may open to watch the video (`/v/<token>`), until it expires. */
export interface ShareAnswer {
  url: string;
  expiresAt?: string;
}
