import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  backfillIdempotencyKey,
  checkpointSchema,
  createRateLimiter,
  ossTriggerEventFor,
  pipelineEventFor,
  runBackfill,
  type BackfillClock,
  type BackfillOptions,
  type Checkpoint,
  type ListedObject,
  type ListPage,
} from '../../cli/backfill/backfill';
import { YikeError } from '../../shared/runtime/errors';
import { parseInvocation } from '../../shared/triggers/events/parse';
import { objectRecordKey } from '../../shared/domain/submissions/record-keys';
import { loadEvent } from '../helpers/fixtures';
import { tempDir, testConfig } from '../helpers/local-cloud';

const BUCKET = 'yike-uploads';
const CONFIG = testConfig({ APP_ROUTES: JSON.stringify({ 'uploads/female/': 'female' }), FC_ACCOUNT_ID: '1234567890123456' });
const ETAG = '"688A7BF4F233DC9C88A80BF985AB7329"';

/** Time that only moves when somebody sleeps: rate limits are tested without waiting. */
function fakeClock(): BackfillClock & { sleeps: number[] } {
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

function object(name: string, size = 100): ListedObject {
  return { name, size, etag: ETAG, lastModified: '2026-11-20T06:45:43.000Z' };
}

/** A bucket listing served in pages, recording the marker of each call. */
function fakeBucket(objects: ListedObject[], pageSize = 3): { list: (marker?: string) => Promise<ListPage>; markers: (string | undefined)[] } {
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

function images(count: number, folder = 'uploads/female'): ListedObject[] {
  return Array.from({ length: count }, (_, index) => object(`${folder}/img-${String(index).padStart(3, '0')}.jpg`));
}

function options(overrides: Partial<BackfillOptions> & Pick<BackfillOptions, 'list'>): BackfillOptions {
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

function readCheckpoint(path: string): Checkpoint {
  return checkpointSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

describe('runBackfill', () => {
  let dir: ReturnType<typeof tempDir>;
  let checkpointPath: string;

  beforeEach(() => {
    dir = tempDir('backfill-unit-');
    checkpointPath = join(dir.path, 'checkpoint.json');
  });
  afterEach(() => dir.remove());

  it('lists page by page, invokes only the images and counts the rest as skipped by reason', async () => {
    // Arrange
    const bucket = fakeBucket([...images(4), object('uploads/notes.txt'), object('uploads/female/empty.jpg', 0), object('.yike-jobs/objects/x.jpg')]);
    const submitted: string[] = [];

    // Act
    const summary = await runBackfill(options({ list: bucket.list, submit: async (_event, listed) => void submitted.push(listed.name) }));

    // Assert
    expect(bucket.markers).toEqual([undefined, 'uploads/female/img-000.jpg', 'uploads/female/img-003.jpg']);
    expect(submitted.sort()).toEqual(images(4).map((entry) => entry.name));
    expect(summary).toMatchObject({
      listed: 7,
      invoked: 4,
      skipped: { 'records-prefix': 1, 'not-an-image': 1, 'empty-object': 1 },
      failed: [],
      dryRun: false,
      interrupted: false,
    });
    expect(summary.resumedFrom).toBeUndefined();
  });

  it('never has more submissions in flight than the concurrency allows', async () => {
    // Arrange
    let inFlight = 0;
    let highest = 0;
    const submit = async () => {
      inFlight += 1;
      highest = Math.max(highest, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
    };

    // Act
    const summary = await runBackfill(options({ list: fakeBucket(images(12)).list, submit, concurrency: 3 }));

    // Assert
    expect(summary.invoked).toBe(12);
    expect(highest).toBe(3);
  });

  it('reports failed submissions with their code and keeps going', async () => {
    // Arrange
    const submit = async (_event: Buffer, listed: ListedObject) => {
      if (listed.name.endsWith('img-001.jpg')) throw new YikeError('Throttling.User', 'slow down');
    };

    // Act
    const summary = await runBackfill(options({ list: fakeBucket(images(3)).list, submit }));

    // Assert
    expect(summary.invoked).toBe(3);
    expect(summary.failed).toEqual([{ key: 'uploads/female/img-001.jpg', code: 'Throttling.User', message: 'slow down' }]);
    expect(summary.totals.failed).toBe(1);
  });

  it('writes a checkpoint whose marker never passes an unfinished key, even when later keys finish first', async () => {
    // Arrange: img-001 hangs until img-004 is submitted; the others finish at once.
    const controller = new AbortController();
    let releaseSlow!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
    let slowPending = true;
    let checkpointWhilePending: string | null | undefined;
    const markersWhilePending = new Set<string | undefined>();
    const submit = async (_event: Buffer, listed: ListedObject) => {
      if (listed.name.endsWith('img-001.jpg')) return slow;
      if (listed.name.endsWith('img-004.jpg')) {
        checkpointWhilePending = readCheckpoint(checkpointPath).marker;
        controller.abort();
        slowPending = false;
        releaseSlow();
      }
    };

    // Act
    const summary = await runBackfill(
      options({
        list: fakeBucket(images(8)).list,
        submit,
        concurrency: 4,
        checkpointPath,
        checkpointEvery: 1,
        signal: controller.signal,
        onProgress: (state) => {
          if (slowPending) markersWhilePending.add(state.marker);
        },
      }),
    );

    // Assert
    expect(checkpointWhilePending).toBe('uploads/female/img-000.jpg');
    expect([...markersWhilePending].every((marker) => marker === undefined || marker === 'uploads/female/img-000.jpg')).toBe(true);
    expect(summary).toMatchObject({ interrupted: true, invoked: 5, marker: 'uploads/female/img-004.jpg' });
    expect(readCheckpoint(checkpointPath)).toMatchObject({
      version: 1,
      bucket: BUCKET,
      prefix: '',
      app: null,
      completed: false,
      marker: 'uploads/female/img-004.jpg',
    });
    expect(existsSync(`${checkpointPath}.${process.pid}.tmp`)).toBe(false);
  });

  it('stops scheduling on abort, waits for the submissions in flight and says it was interrupted', async () => {
    // Arrange
    const controller = new AbortController();
    const finished: string[] = [];
    const submit = async (_event: Buffer, listed: ListedObject) => {
      if (finished.length === 2) controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 5));
      finished.push(listed.name);
    };

    // Act
    const summary = await runBackfill(options({ list: fakeBucket(images(20)).list, submit, concurrency: 2, checkpointPath, signal: controller.signal }));

    // Assert
    expect(summary.interrupted).toBe(true);
    expect(summary.invoked).toBe(finished.length);
    expect(summary.invoked).toBeLessThan(20);
    expect(readCheckpoint(checkpointPath).marker).toBe(finished.sort().at(-1));
  });

  it('resumes listing after the marker of a checkpoint for the same bucket, prefix and app, and adds to its totals', async () => {
    // Arrange
    const all = images(6);
    const first = new AbortController();
    await runBackfill(
      options({
        list: fakeBucket(all).list,
        checkpointPath,
        signal: first.signal,
        concurrency: 1,
        submit: async (_event, listed) => {
          if (listed.name.endsWith('img-002.jpg')) first.abort();
        },
      }),
    );
    const bucket = fakeBucket(all);
    const submitted: string[] = [];

    // Act
    const summary = await runBackfill(options({ list: bucket.list, checkpointPath, submit: async (_event, listed) => void submitted.push(listed.name) }));

    // Assert
    expect(bucket.markers[0]).toBe('uploads/female/img-002.jpg');
    expect(summary.resumedFrom).toBe('uploads/female/img-002.jpg');
    expect(submitted).toEqual(['uploads/female/img-003.jpg', 'uploads/female/img-004.jpg', 'uploads/female/img-005.jpg']);
    expect(summary.totals).toMatchObject({ listed: 6, invoked: 6, failed: 0 });
    expect(readCheckpoint(checkpointPath)).toMatchObject({ completed: true, marker: 'uploads/female/img-005.jpg' });
  });

  it('starts from the beginning again after a completed checkpoint', async () => {
    // Arrange
    await runBackfill(options({ list: fakeBucket(images(3)).list, checkpointPath }));
    const bucket = fakeBucket(images(3));

    // Act
    const summary = await runBackfill(options({ list: bucket.list, checkpointPath }));

    // Assert
    expect(bucket.markers[0]).toBeUndefined();
    expect(summary.resumedFrom).toBeUndefined();
    expect(summary.totals.invoked).toBe(3);
  });

  it('refuses an unfinished checkpoint that belongs to another prefix instead of overwriting it', async () => {
    // Arrange
    const controller = new AbortController();
    const abortAtOnce = async () => controller.abort();
    await runBackfill(
      options({
        list: fakeBucket(images(4, 'uploads/male')).list,
        checkpointPath,
        prefix: 'uploads/male/',
        concurrency: 1,
        submit: abortAtOnce,
        signal: controller.signal,
      }),
    );
    const before = readFileSync(checkpointPath, 'utf8');

    // Act
    const run = runBackfill(options({ list: fakeBucket(images(2)).list, checkpointPath, prefix: 'uploads/female/' }));

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'CHECKPOINT_MISMATCH' });
    expect(readFileSync(checkpointPath, 'utf8')).toBe(before);
  });

  it('replaces a completed checkpoint of another prefix, which is only history', async () => {
    // Arrange
    await runBackfill(options({ list: fakeBucket(images(2, 'uploads/male')).list, checkpointPath, prefix: 'uploads/male/' }));

    // Act
    const summary = await runBackfill(options({ list: fakeBucket(images(2)).list, checkpointPath, prefix: 'uploads/female/' }));

    // Assert
    expect(summary.resumedFrom).toBeUndefined();
    expect(readCheckpoint(checkpointPath)).toMatchObject({ prefix: 'uploads/female/', completed: true, totals: { invoked: 2 } });
  });

  it('refuses a file that is not a checkpoint', async () => {
    // Arrange
    writeFileSync(checkpointPath, '{"hello":"world"}');

    // Act
    const run = runBackfill(options({ list: fakeBucket(images(2)).list, checkpointPath }));

    // Assert
    await expect(run).rejects.toMatchObject({ code: 'CHECKPOINT_INVALID' });
  });

  it('in a dry run invokes nothing, counts what it would invoke and leaves the checkpoint alone', async () => {
    // Arrange
    const submit = jest.fn(async () => undefined);

    // Act
    const summary = await runBackfill(options({ list: fakeBucket([...images(3), object('a.txt')]).list, submit, dryRun: true, checkpointPath }));

    // Assert
    expect(submit).not.toHaveBeenCalled();
    expect(summary).toMatchObject({ dryRun: true, invoked: 0, wouldInvoke: 3, skipped: { 'not-an-image': 1 } });
    expect(existsSync(checkpointPath)).toBe(false);
  });

  it('starts submissions no faster than the rate once the burst is spent', async () => {
    // Arrange
    const clock = fakeClock();
    const startedAt: number[] = [];

    // Act
    await runBackfill(
      options({ list: fakeBucket(images(10)).list, clock, ratePerSecond: 8, concurrency: 10, submit: async () => void startedAt.push(clock.now()) }),
    );

    // Assert: a burst of 2 (a quarter second at 8/s), then one every 125 ms.
    expect(startedAt).toEqual([0, 0, 125, 250, 375, 500, 625, 750, 875, 1000]);
  });
});

describe('createRateLimiter', () => {
  it('hands out the burst at once and then one token per 1/rate seconds', async () => {
    // Arrange
    const clock = fakeClock();
    const limiter = createRateLimiter({ ratePerSecond: 4, burst: 2, clock });

    // Act
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await limiter.take();
      times.push(clock.now());
    }

    // Assert
    expect(times).toEqual([0, 0, 250, 500, 750]);
  });

  it('refills while idle, up to the burst and no more', async () => {
    // Arrange
    const clock = fakeClock();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 3, clock });
    for (let i = 0; i < 3; i += 1) await limiter.take();
    await clock.sleep(10_000);
    const start = clock.now();

    // Act
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await limiter.take();
      times.push(clock.now() - start);
    }

    // Assert
    expect(times).toEqual([0, 0, 0, 100, 200]);
  });

  it('gives up waiting when the signal aborts', async () => {
    // Arrange
    const limiter = createRateLimiter({ ratePerSecond: 1, burst: 1 });
    await limiter.take();
    const controller = new AbortController();

    // Act
    const waiting = limiter.take(controller.signal);
    controller.abort();

    // Assert
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('refuses a rate that is not positive', () => {
    // Act
    const create = () => createRateLimiter({ ratePerSecond: 0 });

    // Assert
    expect(create).toThrow(RangeError);
  });
});

describe('backfill events', () => {
  it('makes an OSS trigger event that the function parses into the same job record as the original upload', () => {
    // Arrange
    const original = loadEvent('oss-trigger-put');
    const record = original.events[0];
    const listed: ListedObject = {
      name: record.oss.object.key,
      size: record.oss.object.size,
      etag: `"${record.oss.object.eTag}"`,
      lastModified: record.eventTime,
    };

    // Act
    const event = JSON.parse(ossTriggerEventFor(BUCKET, listed, CONFIG).toString('utf8'));
    const [item] = parseInvocation(Buffer.from(JSON.stringify(event)), { keyEncoding: 'plain' }).items;
    const [originalItem] = parseInvocation(original, { keyEncoding: 'plain' }).items;

    // Assert
    expect(Object.keys(event.events[0]).sort()).toEqual(Object.keys(record).sort());
    expect(Object.keys(event.events[0].oss).sort()).toEqual(Object.keys(record.oss).sort());
    expect(Object.keys(event.events[0].oss.object).sort()).toEqual(Object.keys(record.oss.object).sort());
    expect(item).toMatchObject({ kind: 'object', object: { eventName: 'PutObject', eTag: record.oss.object.eTag, eventTime: '2026-11-20T06:45:43.000Z' } });
    if (item?.kind !== 'object' || originalItem?.kind !== 'object') throw new Error('expected object items');
    expect(objectRecordKey('.yike-jobs/', item.object)).toBe(objectRecordKey('.yike-jobs/', originalItem.object));
  });

  it('encodes keys when the function decodes them (OSS_KEY_ENCODING=url), so they arrive unchanged', () => {
    // Arrange
    const config = testConfig({ OSS_KEY_ENCODING: 'url' });
    const listed = object('uploads/女/a b+c.jpg');

    // Act
    const [item] = parseInvocation(ossTriggerEventFor(BUCKET, listed, config), { keyEncoding: 'url' }).items;

    // Assert
    expect(item).toMatchObject({ kind: 'object', object: { key: 'uploads/女/a b+c.jpg' } });
  });

  it('makes a pipeline event with an idempotency key per object version and app', () => {
    // Act
    const [item] = parseInvocation(pipelineEventFor(BUCKET, object('uploads/x.jpg'), 'male'), { keyEncoding: 'plain' }).items;

    // Assert
    expect(item).toEqual({
      kind: 'request',
      source: `oss://${BUCKET}/uploads/x.jpg`,
      request: {
        image: { bucket: BUCKET, key: 'uploads/x.jpg' },
        app: 'male',
        idempotencyKey: `backfill:${BUCKET}/uploads/x.jpg@688A7BF4F233DC9C88A80BF985AB7329:male`,
      },
    });
  });

  it('hashes an idempotency key that would be longer than the function accepts', () => {
    // Act
    const key = backfillIdempotencyKey(BUCKET, object(`uploads/${'k'.repeat(400)}.jpg`), 'female');
    const [item] = parseInvocation(pipelineEventFor(BUCKET, object(`uploads/${'k'.repeat(400)}.jpg`), 'female'), { keyEncoding: 'plain' }).items;

    // Assert
    expect(key).toMatch(/^backfill:sha256:[0-9a-f]{64}$/);
    expect(item?.kind).toBe('request');
  });
});
