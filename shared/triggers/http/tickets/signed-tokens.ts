import { metadataSchema } from '../../../domain/jobs/metadata';
import { MAX_TICKET_UPLOADS, type Ticket } from '../../../domain/tickets/ticket';
import * as z from '../../../runtime/zod';

/**
 * Upload tickets and share links as JWTs (RFC 7519) signed with TICKET_SECRET, HS256 (HMAC-SHA256), made and checked by
 * `jose` (a well-kept JOSE library; loaded on the first ticket or share only: scripts/build.mjs makes it jose.js). Each
 * kind has its own audience, so a share link is never taken for a ticket nor the other way round; the algorithm is
 * pinned to HS256 when verifying (no `alg: none`, no key confusion). The claims are checked with zod after the
 * signature: a token we signed always passes, anything else is refused the same way.
 */
const jose = () => require('jose') as typeof import('jose');

const TICKET_AUDIENCE = 'yike-fc:upload-ticket';
const SHARE_AUDIENCE = 'yike-fc:share';
const ALGORITHM = 'HS256';
/** A JWS in compact form: three base64url parts (how a bearer is told apart from an operator token). */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const ticketClaims = z.object({
  jti: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
  exp: z.number(),
  app: z.string().check(z.minLength(1), z.maxLength(128)),
  md: z.optional(metadataSchema),
  n: z.number().check(z.int(), z.gte(1), z.lte(MAX_TICKET_UPLOADS)),
  tok: z.string().check(z.minLength(1), z.maxLength(128)),
});

const shareClaims = z.object({ sub: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/)), exp: z.number(), tid: z.optional(z.string()) });

/** A share link's claims: the job, when it stops working, and the ticket it was made with (if any). */
export interface ShareLink {
  jobId: string;
  expiresAt: Date;
  ticketId?: string;
}

/** Why a token is refused: `expired` (a good signature, past its `exp`), or `invalid` (anything else). */
export type TokenRefusal = 'expired' | 'invalid';

const keyOf = (secret: string) => new TextEncoder().encode(secret);
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

export function signTicket(ticket: Ticket, secret: string, now: Date): Promise<string> {
  const { SignJWT } = jose();
  return new SignJWT({ app: ticket.app, ...(ticket.metadata ? { md: ticket.metadata } : {}), n: ticket.uploads, tok: ticket.payer })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setJti(ticket.id)
    .setAudience(TICKET_AUDIENCE)
    .setIssuedAt(seconds(now))
    .setExpirationTime(seconds(ticket.expiresAt))
    .sign(keyOf(secret));
}

export async function verifyTicket(token: string, secret: string, now: Date): Promise<{ ticket: Ticket } | { refused: TokenRefusal }> {
  const verified = await verifiedPayload(token, secret, TICKET_AUDIENCE, now);
  if ('refused' in verified) return verified;
  const claims = ticketClaims.safeParse(verified.payload);
  if (!claims.success) return { refused: 'invalid' };
  const { jti, exp, app, md, n, tok } = claims.data;
  return { ticket: { id: jti, app, ...(md ? { metadata: md } : {}), uploads: n, expiresAt: new Date(exp * 1000), payer: tok } };
}

export function signShareLink(link: ShareLink, secret: string, now: Date): Promise<string> {
  const { SignJWT } = jose();
  return new SignJWT(link.ticketId ? { tid: link.ticketId } : {})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(link.jobId)
    .setAudience(SHARE_AUDIENCE)
    .setIssuedAt(seconds(now))
    .setExpirationTime(seconds(link.expiresAt))
    .sign(keyOf(secret));
}

export async function verifyShareLink(token: string, secret: string, now: Date): Promise<{ link: ShareLink } | { refused: TokenRefusal }> {
  const verified = await verifiedPayload(token, secret, SHARE_AUDIENCE, now);
  if ('refused' in verified) return verified;
  const claims = shareClaims.safeParse(verified.payload);
  if (!claims.success) return { refused: 'invalid' };
  const { sub, exp, tid } = claims.data;
  return { link: { jobId: sub, expiresAt: new Date(exp * 1000), ...(tid ? { ticketId: tid } : {}) } };
}

async function verifiedPayload(token: string, secret: string, audience: string, now: Date): Promise<{ payload: unknown } | { refused: TokenRefusal }> {
  if (!COMPACT_JWS.test(token)) return { refused: 'invalid' };
  const { jwtVerify, errors } = jose();
  try {
    const { payload } = await jwtVerify(token, keyOf(secret), { algorithms: [ALGORITHM], audience, currentDate: now, requiredClaims: ['exp'] });
    return { payload };
  } catch (error) {
    return { refused: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
