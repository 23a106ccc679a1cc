import { randomUUID } from 'node:crypto';
import { YikeError } from '../../runtime/errors';
import { withAttempts } from '../../runtime/retry';
import type { RecordStore } from '../ports';

/**
 * One day's counter (the budget, or one token's quota) as numbered, create-only slot objects in the records bucket:
 *
 *   <counter>slots/00000007            claimed (x-oss-forbid-overwrite: exactly one claimant gets number 7)
 *   <counter>slots/00000007.released   its claimant's job was refused before ICE made it: the slot counts no more
 *   <counter>slots/override-<time>-<id>  a job an operator released over the budget (counted, never refused)
 *   <counter>hint.json                 where to start looking (a plain, last-writer-wins hint; never trusted)
 *
 * Exactness: a claimant may take number n only while n <= limit + (released markers it has seen). Numbers are
 * unique, markers are never removed and each marks one real claim, so at any time the claims that still count are
 * at most `limit`. Nothing is ever deleted or reused, so a retried write can never take someone else's slot.
 * A write whose answer was lost is read back (the owner id is ours alone); if that fails too, the number is given
 * up, and looked at once more when the job is settled (reclaimAbandoned): if it is ours after all, it is released;
 * if its write is still on its way, it stays counted (a job fewer that day, never one more).
 */
export interface Counter {
  /** `<RECORDS_PREFIX>budget/<day>/` or `<RECORDS_PREFIX>budget/<day>/tokens/<name>/`. */
  prefix: string;
  limit: number;
}

export interface ClaimedSlot {
  number: number;
  key: string;
  owner: string;
}

/** What one instance remembers between submits: where its next claim should start, and a counter seen full. */
export type CounterMemo = Map<string, { next?: number; fullUntilMs?: number }>;

type SlotStore = Pick<RecordStore, 'createIfAbsent' | 'get' | 'put' | 'list'>;

const DIGITS = 8;
/** The hint is rewritten when a claim had to search, and every HINT_EVERY slots otherwise. */
const HINT_EVERY = 16;
/** Claim writes that got no clear answer (and could not be read back) before the submit fails retryably. */
const MAX_UNCLEAR_CLAIMS = 3;
/** Listings of a counter full of contention before giving up retryably (each one sees fewer free numbers). */
const MAX_SCANS = 8;
/** How long an instance trusts "this counter is full" before it lists it again (a release may free a slot). */
const FULL_RECHECK_MS = 5_000;

const slotName = (n: number) => String(n).padStart(DIGITS, '0');
export const slotKey = (counter: Pick<Counter, 'prefix'>, n: number) => `${counter.prefix}slots/${slotName(n)}`;
const SLOT = /^(\d+)$/;
const RELEASED = /^(\d+)\.released$/;
const OVERRIDE = /^override-/;

export interface CounterOptions {
  memo?: CounterMemo;
  nowMs?: () => number;
  random?: () => number;
}

/**
 * Claims a free slot (`slot`, undefined when the counter is full: every number up to its cap taken). `abandoned`: the
 * numbers whose claim got no clear answer and were given up; give them to reclaimAbandoned once the job is settled.
 */
export async function claimSlot(
  store: SlotStore,
  counter: Counter,
  claimFor: string,
  options: CounterOptions = {},
): Promise<{ slot?: ClaimedSlot; abandoned: ClaimedSlot[] }> {
  const nowMs = options.nowMs ?? Date.now;
  const memo = options.memo?.get(counter.prefix) ?? {};
  options.memo?.set(counter.prefix, memo);
  const abandoned: ClaimedSlot[] = [];
  if (memo.fullUntilMs !== undefined && memo.fullUntilMs > nowMs()) return { abandoned };
  const owner = randomUUID();
  const body = { owner, for: claimFor, claimedAt: new Date(nowMs()).toISOString() };
  const attempt = async (n: number): Promise<boolean> => {
    const outcome = await tryCreate(store, slotKey(counter, n), body);
    if (outcome === 'unclear') {
      abandoned.push({ number: n, key: slotKey(counter, n), owner });
      if (abandoned.length >= MAX_UNCLEAR_CLAIMS) {
        const error = new YikeError(
          'RECORD_STORE_FAILED',
          `The budget's slot store gave no clear answer ${abandoned.length} times (${counter.prefix}); try again`,
          {
            retryable: true,
            details: { abandoned },
          },
        );
        throw error;
      }
    }
    return outcome === 'claimed';
  };

  // Galloping from where this instance (or the hint) left off: one write when nobody else is claiming.
  let probes = 0;
  let n = memo.next ?? (await readHint(store, counter)) ?? 1;
  for (let step = 1; n <= counter.limit; n += step, step *= 2) {
    probes++;
    if (await attempt(n)) {
      memo.next = n + 1;
      if (probes > 1 || n % HINT_EVERY === 0) await store.put(`${counter.prefix}hint.json`, { next: n + 1 }).catch(() => undefined);
      return { slot: { number: n, key: slotKey(counter, n), owner }, abandoned };
    }
  }

  // Past the limit: list the day's slots and try the numbers still free up to the cap (limit + released).
  for (let scan = 0; scan < MAX_SCANS; scan++) {
    const listed = await listSlots(store, counter);
    const cap = counter.limit + listed.released.size;
    const free: number[] = [];
    for (let candidate = 1; candidate <= cap; candidate++) if (!listed.claimed.has(candidate)) free.push(candidate);
    memo.next = cap + 1;
    if (free.length === 0) {
      memo.fullUntilMs = nowMs() + FULL_RECHECK_MS;
      return { abandoned };
    }
    // In random order, so instances that listed at the same moment do not all race for the same number.
    for (const candidate of shuffle(free, options.random ?? Math.random)) {
      if (await attempt(candidate)) return { slot: { number: candidate, key: slotKey(counter, candidate), owner }, abandoned };
    }
  }
  throw new YikeError('BUDGET_CONTENDED', `Every free slot of ${counter.prefix} was taken while this submit tried them; try again`, { retryable: true });
}

/**
 * Gives a slot back (its job was refused before ICE made it): a create-only `.released` marker, retried; a marker that
 * could not be written leaves the slot counted (one job fewer that day). True when the marker exists.
 */
export async function releaseSlot(store: SlotStore, slot: ClaimedSlot, at: Date): Promise<boolean> {
  const marker = { owner: slot.owner, releasedAt: at.toISOString() };
  return await withAttempts(
    () => store.createIfAbsent(`${slot.key}.released`, marker),
    3,
    (attempt) => 100 * attempt,
  ).then(
    () => true,
    () => false,
  );
}

/**
 * Slots whose claim got no clear answer, looked at again once the job is settled: one that turns out to be ours (its
 * write landed after all) was never used, so it is released. One still missing may yet land: it stays counted.
 */
export async function reclaimAbandoned(store: SlotStore, abandoned: readonly ClaimedSlot[], at: Date): Promise<number> {
  let reclaimed = 0;
  for (const slot of abandoned) {
    const written = await store.get<{ owner?: string }>(slot.key).catch(() => undefined);
    if (written?.owner === slot.owner && (await releaseSlot(store, slot, at))) reclaimed++;
  }
  return reclaimed;
}

/** A job an operator submitted over the budget: it counts, under its own name. */
export async function recordOverride(store: SlotStore, counter: Pick<Counter, 'prefix'>, body: Record<string, unknown>, at: Date): Promise<void> {
  const key = `${counter.prefix}slots/override-${at.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  await store.createIfAbsent(key, { ...body, at: at.toISOString() });
}

/** The counter's slots as one listing (1 OSS page per 1,000 objects). */
async function listSlots(
  store: Pick<RecordStore, 'list'>,
  counter: Pick<Counter, 'prefix'>,
): Promise<{ claimed: Set<number>; released: Set<number>; overrides: number }> {
  const prefix = `${counter.prefix}slots/`;
  const claimed = new Set<number>();
  const released = new Set<number>();
  let overrides = 0;
  for (const key of await store.list(prefix)) {
    const name = key.slice(prefix.length);
    const slot = SLOT.exec(name) ?? undefined;
    const marker = RELEASED.exec(name) ?? undefined;
    if (slot) claimed.add(Number(slot[1]));
    else if (marker) released.add(Number(marker[1]));
    else if (OVERRIDE.test(name)) overrides++;
  }
  return { claimed, released, overrides };
}

/** How many jobs the counter holds now: claimed - released + operator overrides. */
export async function countUsed(store: Pick<RecordStore, 'list'>, counter: Pick<Counter, 'prefix'>): Promise<number> {
  const listed = await listSlots(store, counter);
  let released = 0;
  for (const n of listed.released) if (listed.claimed.has(n)) released++;
  return listed.claimed.size - released + listed.overrides;
}

async function tryCreate(store: SlotStore, key: string, body: { owner: string }): Promise<'claimed' | 'taken' | 'unclear'> {
  try {
    return (await store.createIfAbsent(key, body)) ? 'claimed' : 'taken';
  } catch {
    // A reset or a timeout after OSS stored it: the object may be ours. Read it back; the owner id says whose.
    const written = await store.get<{ owner?: string }>(key).catch(() => undefined);
    if (written === undefined) return 'unclear';
    return written.owner === body.owner ? 'claimed' : 'taken';
  }
}

async function readHint(store: SlotStore, counter: Counter): Promise<number | undefined> {
  const hint = await store.get<{ next?: unknown }>(`${counter.prefix}hint.json`).catch(() => undefined);
  const next = hint?.next;
  return typeof next === 'number' && Number.isInteger(next) && next >= 1 ? next : undefined;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
