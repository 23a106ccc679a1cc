import { readFileSync } from 'node:fs';
import { checkpointSchema, type Checkpoint } from '../../../../cli/backfill/checkpoint';
import type { BackfillClock, BackfillOptions, ListedObject, ListPage } from '../../../../cli/backfill/types';
import { testConfig } from '../../../helpers/local-cloud';

/** Shared set-up of the backfill unit tests: a fake clock, a fake bucket listing, default options. */
export const BUCKET = 'yike-uploads';
export const CONFIG = testConfig({ APP_ROUTES: JSON.stringify({ 'uploads/female/': 'female' }), FC_ACCOUNT_ID: '1234567890123456' });
const ETAG = '"688A7BF4F233DC9C88A80BF985AB7329"';

/** Time that only moves when somebody sleeps: rate limits are tested without waiting. */
export function fakeClock(): BackfillClock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      now += ms;
    },
  };
}

export function object(name: string, size = 100): ListedObject {
  return { name, size, etag: ETAG, lastModified: '2026-11-20T06:45:43.000Z' };
}

/** A bucket listing served in pages, recording the marker of each call. */
export function fakeBucket(objects: ListedObject[], pageSize = 3): { list: (marker?: string) => Promise<ListPage>; markers: (string | undefined)[] } {
  const sorted = [...objects].sort((a, b) => (a.name < b.name ? -1 : 1));
  const markers: (string | undefined)[] = [];
  return {
    markers,
    async list(marker) {
      markers.push(marker);
      const after = marker === undefined ? sorted : sorted.filter((entry) => entry.name > marker);
      const page = after.slice(0, pageSize);
      return { objects: page, nextMarker: after.length > pageSize ? page[page.length - 1]!.name : undefined };
    },
  };
}

export function images(count: number, folder = 'uploads/female'): ListedObject[] {
  return Array.from({ length: count }, (_, index) => object(`${folder}/img-${String(index).padStart(3, '0')}.jpg`));
}

export function options(overrides: Partial<BackfillOptions> & Pick<BackfillOptions, 'list'>): BackfillOptions {
  return {
    bucket: BUCKET,
    prefix: '',
    concurrency: 2,
    ratePerSecond: 1000,
    dryRun: false,
    submit: async () => undefined,
    config: CONFIG,
    clock: fakeClock(),
    ...overrides,
  };
}

export function readCheckpoint(path: string): Checkpoint {
  return checkpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}
