import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackfill } from '../../../../cli/backfill/backfill';
import type { ListedObject } from '../../../../cli/backfill/types';
import { YikeError } from '../../../../shared/runtime/errors';
import { tempDir } from '../../../helpers/local-cloud';
import { BUCKET, fakeBucket, fakeClock, images, object, options, readCheckpoint } from './fixtures';

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
      await new Promise((resolve) => setImmediate(resolve)); // in flight until the event loop turns
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
      await new Promise((resolve) => setImmediate(resolve));
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
