/**
 * What `npm run deploy -- --guided` asks once and later runs reuse (like `sam deploy --guided`'s samconfig), kept in
 * .yike/deploy.json, and the bearer token it makes, kept in .yike/token, readable by you only (mode 0600). Both are
 * in .gitignore: the folder is this clone's, never committed. The functions get the token's sha256 digest, never the
 * token (http-submit compares digests). The upload tickets' HMAC key (TICKET_SECRET) is made once too, in
 * .yike/ticket-secret (0600): an HMAC key cannot be given as a digest, so http-submit gets the key itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { InputError } from '../../shared/runtime/errors';
import { ICE_REGIONS } from './deployment';

const ANSWERS_DIR = '.yike';
const ANSWERS_FILE = 'deploy.json';
const TOKEN_FILE = 'token';
const TICKET_SECRET_FILE = 'ticket-secret';
/** Read and write for you, nothing for anyone else. */
const OWNER_ONLY = 0o600;

export const answersSchema = z.object({
  region: z.enum(ICE_REGIONS),
  accountId: z.string().regex(/^[0-9]{5,32}$/, 'an account id is digits'),
  bucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'a bucket name: 3-63 lower-case letters, digits or "-"'),
  /** The page's origin (its custom domain); absent: no CORS rule. */
  pageOrigin: z.optional(z.string().regex(/^https:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/, 'an https origin such as https://yike.example.com')),
  /** Paid jobs a day; `none` only when said out loud (--budget none or the guided prompt). */
  budget: z.optional(z.union([z.number().int().positive(), z.literal('none')])),
  nextFunction: z.optional(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/, 'an FC function name')),
  eventBridge: z.optional(z.boolean()),
  /** The ROS stack, once created. */
  stackId: z.optional(z.string()),
});

export type DeployAnswers = z.infer<typeof answersSchema>;

export function loadAnswers(dir: string): DeployAnswers | undefined {
  const file = join(dir, ANSWERS_DIR, ANSWERS_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = answersSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    throw new InputError(
      'DEPLOY_ANSWERS_INVALID',
      `${join(ANSWERS_DIR, ANSWERS_FILE)} is not valid (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}): run npm run deploy -- --guided`,
      issues,
    );
  }
  return parsed.data;
}

export function saveAnswers(dir: string, answers: DeployAnswers): void {
  mkdirSync(join(dir, ANSWERS_DIR), { recursive: true });
  writeFileSync(join(dir, ANSWERS_DIR, ANSWERS_FILE), `${JSON.stringify(answersSchema.parse(answers), null, 2)}\n`);
}

export function loadToken(dir: string): string | undefined {
  const file = join(dir, ANSWERS_DIR, TOKEN_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** A new random bearer token (48 hex digits), written where only you can read it. */
export function createToken(dir: string, random: (bytes: number) => Buffer = randomBytes): string {
  const token = random(24).toString('hex');
  mkdirSync(join(dir, ANSWERS_DIR), { recursive: true });
  const file = join(dir, ANSWERS_DIR, TOKEN_FILE);
  writeFileSync(file, `${token}\n`, { mode: OWNER_ONLY });
  // writeFileSync keeps an existing file's mode: make sure.
  chmodSync(file, OWNER_ONLY);
  return token;
}

export const tokenPath = (dir: string): string => join(dir, ANSWERS_DIR, TOKEN_FILE);

/** What the functions' AUTH_TOKENS holds: the digest http-submit compares a bearer token's digest with. */
export function tokenDigest(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** The upload tickets' HMAC key of this clone (base64 of 32 random bytes), made the first time and kept (0600). */
export function ticketSecretFor(dir: string, random: (bytes: number) => Buffer = randomBytes): string {
  const file = join(dir, ANSWERS_DIR, TICKET_SECRET_FILE);
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (existing) return existing;
  const secret = random(32).toString('base64');
  mkdirSync(join(dir, ANSWERS_DIR), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: OWNER_ONLY });
  chmodSync(file, OWNER_ONLY);
  return secret;
}

/** The key when this clone has one (the dry run makes nothing). */
export function loadTicketSecret(dir: string): string | undefined {
  const file = join(dir, ANSWERS_DIR, TICKET_SECRET_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
