import * as z from '../../runtime/zod';
import type { RecordStore } from '../ports';
import { metadataSchema, type JobMetadata } from '../jobs/metadata';

/**
 * Upload tickets (`POST /tickets`, docs/page.md): a brand's backend mints one with its operator token, and a customer's
 * browser holds it instead of that token. A ticket names its app, the caller's metadata, how many uploads it allows, when
 * it expires and the token that minted it (its jobs count against that token's quota and the day's budget). What a
 * ticket may do is decided in shared/triggers/http/tickets/; here are the rules that touch our records:
 * - each upload takes a slot `<RECORDS_PREFIX>tickets/<ticketId>/<n>.json` (create-only, as the budget's slots: twenty
 *   browsers racing on a ticket of N get exactly N forms);
 * - the upload's key names the ticket and the slot (`…/meta-ticket-<ticketId>-<n>.<ext>`, pinned by the signed form), so
 *   a job belongs to a ticket when its upload's key says so: no other record is needed to tell.
 */
export interface Ticket {
  /** The JWT's `jti`: 22 characters of base64url (16 random bytes). */
  id: string;
  app: string;
  metadata?: JobMetadata;
  /** How many uploads (forms) it allows: 1-5. */
  uploads: number;
  expiresAt: Date;
  /** The operator token that minted it, by its AUTH_TOKENS name (or `sha256:<16 hex>` of an unnamed one). */
  payer: string;
}

export const MAX_TICKET_UPLOADS = 5;
const MAX_TICKET_SECONDS = 86_400;
const DEFAULT_TICKET_SECONDS = 3_600;

/** `POST /tickets`' body. */
export const ticketRequestSchema = z.strictObject({
  app: z.string().check(z.minLength(1), z.maxLength(128)),
  metadata: z.optional(metadataSchema),
  uploads: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_TICKET_UPLOADS))),
  expiresInSeconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MAX_TICKET_SECONDS))),
});
export type TicketRequest = z.infer<typeof ticketRequestSchema>;

/** The ticket a request asks for (the app already resolved by the caller), with its defaults: one upload, one hour. */
export function ticketFor(request: TicketRequest, payer: string, id: string, now: Date): Ticket {
  const seconds = request.expiresInSeconds ?? DEFAULT_TICKET_SECONDS;
  return {
    id,
    app: request.app,
    ...(request.metadata && Object.keys(request.metadata).length > 0 ? { metadata: request.metadata } : {}),
    uploads: request.uploads ?? 1,
    // Whole seconds, as the JWT's `exp` says it.
    expiresAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000),
    payer,
  };
}

const TICKET_ID = '[A-Za-z0-9_-]{22}';
const TICKET_UPLOAD_NAME = new RegExp(`(?:^|/)meta-ticket-(${TICKET_ID})-(\\d{1,2})\\.[^/]+$`);

/** The file name (before its extension) of a ticket's upload number `n`: `meta-` so oss-submit reads its form's fields. */
export const ticketUploadName = (ticketId: string, n: number) => `meta-ticket-${ticketId}-${n}`;

/** The ticket an upload's key names, if any. */
export function ticketOfUploadKey(key: string): string | undefined {
  return TICKET_UPLOAD_NAME.exec(key)?.[1];
}

/** Whether a job (its record's upload) came from this ticket's uploads. */
export function ticketOwns(ticket: Pick<Ticket, 'id'>, upload: { key: string } | undefined): boolean {
  return upload !== undefined && ticketOfUploadKey(upload.key) === ticket.id;
}

const slotKey = (recordsPrefix: string, ticketId: string, n: number) => `${recordsPrefix}tickets/${ticketId}/${n}.json`;

/**
 * Takes the ticket's next free upload slot (1..uploads), create-only: the number taken, or undefined when every slot
 * is taken. Concurrent claims never share a number, so a ticket never grants more forms than it allows.
 */
export async function claimTicketUpload(
  ticket: Pick<Ticket, 'id' | 'uploads'>,
  store: Pick<RecordStore, 'createIfAbsent'>,
  recordsPrefix: string,
  now: Date,
): Promise<number | undefined> {
  for (let n = 1; n <= ticket.uploads; n++) {
    if (await store.createIfAbsent(slotKey(recordsPrefix, ticket.id, n), { ticketId: ticket.id, upload: n, claimedAt: now.toISOString() })) return n;
  }
  return undefined;
}

/**
 * The consent a person gave on the page (CONSENT_VERSION): `POST /uploads` `consent: {version}` with a ticket; the job
 * keeps `{version, acceptedAt}` (acceptedAt: when the form was asked for) and shows it wherever it shows metadata.
 */
export const consentRequestSchema = z.strictObject({ version: z.string().check(z.minLength(1), z.maxLength(64)) });
export interface JobConsent {
  version: string;
  acceptedAt: string;
}
export const jobConsentSchema = z.object({ version: z.string().check(z.minLength(1), z.maxLength(64)), acceptedAt: z.iso.datetime() });

/**
 * Whether `jobId` came from this ticket's uploads (and was not erased); when not, the routes answer as for a job that
 * does not exist (404), so a ticket cannot probe other jobs' ids.
 */
export async function ticketHoldsJob(
  ticket: Pick<Ticket, 'id'>,
  jobId: string,
  jobs: { get(jobId: string): Promise<{ upload?: { key: string } } | undefined>; erasedAt(jobId: string): Promise<string | undefined> },
): Promise<boolean> {
  const [record, erasedAt] = await Promise.all([jobs.get(jobId), jobs.erasedAt(jobId)]);
  return erasedAt === undefined && ticketOwns(ticket, record?.upload);
}
