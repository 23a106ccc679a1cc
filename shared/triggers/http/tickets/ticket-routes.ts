import { createHash, randomBytes } from 'node:crypto';
import type { HttpServices } from '../../../composition/http';
import { jobsBucket } from '../../../domain/lifecycle/job-lookup';
import { createJobRecordStore } from '../../../domain/lifecycle/job-record';
import { metadataSchema } from '../../../domain/jobs/metadata';
import { claimTicketUpload, ticketFor, ticketHoldsJob, ticketOfUploadKey, ticketOwns, ticketRequestSchema, type Ticket } from '../../../domain/tickets/ticket';
import { metadataFieldValue } from '../../../domain/uploads/upload-metadata';
import { planUpload, ticketUploadRequestSchema, uploadableApps } from '../../../domain/uploads/upload-plan';
import type { ApiRequest } from '../../events/fc-http';
import { httpError, invalidBody, type HttpError, type RouteAnswer } from '../errors';
import type { ShareBody, TicketBody, UploadFormBody } from '../responses';
import { signedForm } from '../uploads-route';
import { uploadQuotaRefusal } from '../usage-route';
import { COMPACT_JWS, signShareLink, signTicket, verifyTicket } from './signed-tokens';

/**
 * Upload tickets over HTTP (shared/domain/tickets/ticket.ts, docs/page.md):
 * - `POST /tickets` (operator token): `{app, metadata?, uploads?: 1..5, expiresInSeconds?: 1..86400}` → 201
 *   `{ticket, expiresAt, pageUrl}`, `pageUrl` the page with the ticket in its fragment (`/#ticket=…`: never sent to a server);
 * - `Authorization: Bearer <ticket>` reaches only routes.ts' TICKET_ROUTES: anything else is 403 TICKET_SCOPE, another ticket's job
 *   404 JOB_NOT_FOUND (as a job that does not exist), an expired ticket 401 TICKET_EXPIRED, an altered one 401 TICKET_INVALID;
 * - `POST /jobs/{jobId}/share` (a ticket for its own jobs, or an operator token) → 201 `{url: "/v/<token>", expiresAt}`.
 */

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const CHALLENGE = { 'WWW-Authenticate': 'Bearer' };
const DAY_MS = 86_400_000;

/** The bearer when it is a JWS (an operator token that is one is matched as a token before this is asked). */
export function ticketBearer(request: ApiRequest): string | undefined {
  const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
  return bearer !== undefined && COMPACT_JWS.test(bearer) ? bearer : undefined;
}

/** The ticket a bearer holds, or the 401 that says why not (with TICKET_SECRET unset every ticket is invalid). */
export async function ticketOf(bearer: string, services: HttpServices, now: Date): Promise<{ ticket: Ticket } | { error: HttpError }> {
  const { secret } = services.config.tickets;
  const verified = secret === undefined ? { refused: 'invalid' as const } : await verifyTicket(bearer, secret, now);
  if ('ticket' in verified) return verified;
  return verified.refused === 'expired'
    ? { error: httpError(401, 'TICKET_EXPIRED', 'The upload ticket has expired: ask for a new link', undefined, CHALLENGE) }
    : { error: httpError(401, 'TICKET_INVALID', 'The upload ticket is not valid', undefined, CHALLENGE) };
}

export const ticketScopeRefusal = (route: string): HttpError =>
  httpError(403, 'TICKET_SCOPE', `An upload ticket may not call ${route}: it may upload, and read, share and delete its own jobs`);

const notConfigured = () =>
  httpError(503, 'TICKETS_NOT_CONFIGURED', 'Upload tickets and share links need TICKET_SECRET (at least 32 characters) on this function');

/** Who minted a ticket: the token's AUTH_TOKENS name, else a short digest of it (never the token itself). */
function payerOf(request: ApiRequest, caller: string | undefined): string {
  if (caller !== undefined) return caller;
  const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
  return bearer === undefined ? 'anonymous' : `sha256:${createHash('sha256').update(bearer).digest('hex').slice(0, 16)}`;
}

export async function postTicket(
  request: ApiRequest,
  body: unknown,
  caller: string | undefined,
  services: HttpServices,
  now: Date,
): Promise<RouteAnswer<TicketBody>> {
  const { secret } = services.config.tickets;
  if (secret === undefined) return { ok: false, error: notConfigured() };
  const parsed = ticketRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: invalidBody(parsed.error.issues) };
  const { config, apps } = services;
  const app = apps.resolve(parsed.data.app, 'app');
  if (!uploadableApps(config, apps).some((uploadable) => uploadable.appId === app.appId)) {
    const message = `uploads for "${parsed.data.app}" would not be submitted to ${app.appId}: add an APP_ROUTES entry "uploads/${parsed.data.app}/"`;
    return { ok: false, error: httpError(400, 'APP_NOT_UPLOADABLE', `app: ${message}`, [{ path: 'app', message }]) };
  }
  // Refused now rather than at each upload: the metadata must fit in the form's user metadata.
  if (parsed.data.metadata) metadataFieldValue(parsed.data.metadata);
  const ticket = ticketFor(parsed.data, payerOf(request, caller), randomBytes(16).toString('base64url'), now);
  const token = await signTicket(ticket, secret, now);
  return { ok: true, status: 201, body: { ticket: token, expiresAt: ticket.expiresAt.toISOString(), pageUrl: `/#ticket=${token}` } };
}

/**
 * `POST /uploads` with a ticket: the body without `app`, with `consent` when CONSENT_VERSION is set; the ticket's
 * metadata over the browser's (its keys win); a slot of the ticket taken only for a request that would get its form.
 */
export async function ticketUploadForm(body: unknown, ticket: Ticket, services: HttpServices, now: Date): Promise<RouteAnswer<UploadFormBody>> {
  const parsed = ticketUploadRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: invalidBody(parsed.error.issues) };
  const { consent: given, metadata: browserMetadata, ...file } = parsed.data;
  const { config, apps } = services;
  const version = config.tickets.consentVersion;
  if (version !== undefined && given?.version !== version) {
    const message = `the person must accept the consent text, version "${version}", before uploading`;
    return { ok: false, error: httpError(400, 'CONSENT_REQUIRED', `consent: ${message}`, [{ path: 'consent', message }]) };
  }
  const merged = { ...browserMetadata, ...ticket.metadata };
  const metadata = metadataSchema.safeParse(merged);
  if (!metadata.success) return { ok: false, error: invalidBody(metadata.error.issues.map((issue) => ({ ...issue, path: ['metadata', ...issue.path] }))) };
  const overQuota = await uploadQuotaRefusal(ticket.payer, services, () => now);
  if (overQuota) return { ok: false, error: overQuota };
  const tokenName = config.budget.tokenQuotas[ticket.payer] !== undefined ? ticket.payer : undefined;
  const request = { ...file, app: ticket.app, metadata: metadata.data };
  const options = {
    now,
    credentialsExpireAt: services.uploadForms.credentialsExpireAt(),
    tokenName,
    consent: version === undefined ? undefined : { version, acceptedAt: now.toISOString() },
  };
  // The plan is pure: made once to refuse a bad request before it spends one of the ticket's uploads.
  planUpload(request, config, apps, { ...options, ticket: { id: ticket.id, upload: 0 } });
  const upload = await claimTicketUpload(ticket, services.recordStore(jobsBucket(config)), config.records.prefix, now);
  if (upload === undefined) {
    return { ok: false, error: httpError(403, 'TICKET_USED_UP', `This upload ticket allowed ${ticket.uploads} upload(s), and all were used`) };
  }
  return signedForm(planUpload(request, config, apps, { ...options, ticket: { id: ticket.id, upload } }), services);
}

/** Whether a ticket may see the job (its own, not erased): a job it may not see is answered 404 by the caller. */
export function ticketMaySee(ticket: Ticket, jobId: string, services: HttpServices): Promise<boolean> {
  return ticketHoldsJob(ticket, jobId, createJobRecordStore(services.recordStore(jobsBucket(services.config)), services.config.records.prefix));
}

/** `GET /jobs/by-object` with a ticket: only for an object its own uploads made. */
export const ticketMaySeeObject = (ticket: Ticket, key: string | undefined): boolean => key !== undefined && ticketOfUploadKey(key) === ticket.id;

/**
 * `POST /jobs/{jobId}/share`: a link `/v/<token>` to a page that plays the job's video. It works until SHARE_DAYS from
 * now, or the ticket's own expiry when a ticket asked for it, whichever comes first; erasing the job ends it at once.
 */
export async function postShare(jobId: string, ticket: Ticket | undefined, services: HttpServices, now: Date): Promise<RouteAnswer<ShareBody>> {
  const { secret, shareDays } = services.config.tickets;
  if (secret === undefined) return { ok: false, error: notConfigured() };
  const jobs = createJobRecordStore(services.recordStore(jobsBucket(services.config)), services.config.records.prefix);
  const [record, erasedAt] = await Promise.all([jobs.get(jobId), jobs.erasedAt(jobId)]);
  if (!record || erasedAt !== undefined || (ticket && !ticketOwns(ticket, record.upload))) {
    return { ok: false, error: httpError(404, 'JOB_NOT_FOUND', `No job record for ${jobId}`) };
  }
  const days = new Date(now.getTime() + shareDays * DAY_MS);
  const expiresAt = ticket && ticket.expiresAt < days ? ticket.expiresAt : days;
  const token = await signShareLink({ jobId, expiresAt, ...(ticket ? { ticketId: ticket.id } : {}) }, secret, now);
  return { ok: true, status: 201, body: { url: `/v/${token}`, expiresAt: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000).toISOString() } };
}
