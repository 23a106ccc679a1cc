import * as z from '../../../runtime/zod';
import { ticketRequestSchema } from '../../../domain/tickets/ticket';
import { documented } from '../../../runtime/schema-docs';
import { jobIdSchema } from '../requests';
import * as bodies from '../responses';
import type { RouteName } from '../routes';
import { named, noStore, type Operation } from './operation-parts';

const jobPath = z.object({ jobId: jobIdSchema });
const html = (id: string) => named(id, documented(z.string(), 'HTML'));

/** The routes of upload tickets and share links (docs/page.md). */
export const TICKET_OPERATIONS = {
  'POST /tickets': {
    operationId: 'createTicket',
    summary: "An upload ticket for a customer's browser: one app, your metadata, 1-5 uploads, until it expires",
    description:
      'With an operator token only. The ticket is a JWT signed with TICKET_SECRET; its jobs count against the token that minted it. Send the customer to pageUrl: the ticket is in its fragment, which browsers never send to a server.',
    tag: 'tickets',
    body: { ...named('TicketRequest', ticketRequestSchema), description: 'What the ticket allows' },
    responses: {
      201: { description: 'The ticket', body: named('Ticket', bodies.ticketSchema), headers: noStore },
      400: {
        description: 'Invalid JSON or body, an unknown app, one whose uploads APP_ROUTES sends elsewhere, or metadata over what OSS keeps with an object',
        errors: ['INVALID_JSON', 'INVALID_REQUEST', 'UNKNOWN_APP', 'APP_NOT_UPLOADABLE', 'METADATA_TOO_LARGE'],
      },
      413: { description: 'A body over 16 KiB', errors: ['PAYLOAD_TOO_LARGE'] },
      415: { description: 'The body is not JSON', errors: ['UNSUPPORTED_MEDIA_TYPE'] },
      503: { description: 'No TICKET_SECRET', errors: ['TICKETS_NOT_CONFIGURED'] },
    },
  },
  'POST /jobs/{jobId}/share': {
    operationId: 'shareJob',
    summary: "A link to a page that plays the job's video, for chat apps (Open Graph preview)",
    description:
      "With a ticket (its own jobs) or an operator token. The link works for SHARE_DAYS, or until the ticket's expiry when a ticket asked, whichever is first; DELETE /jobs/{jobId} ends it at once.",
    tag: 'tickets',
    path: jobPath,
    responses: {
      201: { description: 'The link', body: named('ShareLink', bodies.shareSchema), headers: noStore },
      400: { description: 'A malformed job id', errors: ['INVALID_JOB_ID'] },
      404: { description: 'No job record holds it, it was erased, or (a ticket) it is not one of its jobs', errors: ['JOB_NOT_FOUND'] },
      503: { description: 'No TICKET_SECRET, or the record store is unavailable', errors: ['TICKETS_NOT_CONFIGURED', 'SERVICE_UNAVAILABLE'] },
    },
  },
  'GET /v/{token}': {
    operationId: 'getSharePage',
    summary: "A share link's page: the video, labelled as made with AI, with Open Graph tags",
    description: 'No token: the link is the key. Never cached, so an erased job stops playing at once.',
    tag: 'tickets',
    path: z.object({ token: documented(z.string(), 'The token of the share link (POST /jobs/{jobId}/share)') }),
    responses: {
      200: { description: 'The video page (or, before the video is ready, a page that says so)', contentType: 'text/html', body: html('SharePage') },
      404: { description: 'No such link', contentType: 'text/html', body: html('ShareNotFound') },
      410: { description: 'The link has expired, or its job was erased', contentType: 'text/html', body: html('ShareGone') },
    },
  },
} satisfies Partial<Record<RouteName, Operation>>;
