import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointSchema } from '../../../cli/backfill/checkpoint';
import { TINY_PNG } from '../../helpers/local-cloud';
import { expectedUrls, FUNCTION_NAME, imageOf, jobsFor, lister, SLOW_TEST_MS, startBackfillHarness, type BackfillHarness, type Seed } from './backfill-harness';

/** Two buckets of 1,000 objects: one for the straight runs, one for interrupt + resume. */
const MAIN_BUCKET = 'yike-uploads';
const RESUME_BUCKET = 'yike-resume';
const INTERRUPT_AFTER_INVOCATIONS = 300;

function thousandObjects(): Seed {
  const images = [
    ...Array.from({ length: 475 }, (_, i) => `uploads/female/portrait-${String(i).padStart(4, '0')}.jpg`),
    ...Array.from({ length: 475 }, (_, i) => `uploads/male/portrait-${String(i).padStart(4, '0')}.png`),
  ];
  const others: Seed['others'] = [
    ...Array.from({ length: 20 }, (_, i) => ({ key: `uploads/female/notes-${i}.txt`, body: Buffer.from(`note ${i}`), reason: 'not-an-image' as const })),
    ...Array.from({ length: 15 }, (_, i) => ({ key: `uploads/male/empty-${i}.jpg`, body: Buffer.alloc(0), reason: 'empty-object' as const })),
    ...Array.from({ length: 15 }, (_, i) => ({ key: `.yike-jobs/stale/old-${i}.jpg`, body: TINY_PNG, reason: 'records-prefix' as const })),
  ];
  return { images, others };
}

function keyOfEvent(event: Buffer): string {
  const parsed = JSON.parse(event.toString('utf8'));
  return parsed.events ? parsed.events[0].oss.object.key : parsed.image.key;
}

const seed = thousandObjects();

describe('yike-backfill against local OSS, a local FC invoke endpoint and local ICE: a run, a re-run, a dry run and a resumed run', () => {
  let cloud: BackfillHarness;

  beforeAll(async () => {
    cloud = await startBackfillHarness({ [MAIN_BUCKET]: seed, [RESUME_BUCKET]: seed });
  }, SLOW_TEST_MS);
  afterAll(async () => cloud?.close());

  it(
    'submits every image among 1,000 objects exactly once through async invocations, and never invokes the rest',
    async () => {
      // Act
      const summary = await cloud.backfill(MAIN_BUCKET);
      await cloud.fc.idle();

      // Assert
      expect(summary).toMatchObject({
        listed: 1000,
        invoked: 950,
        skipped: { 'not-an-image': 20, 'empty-object': 15, 'records-prefix': 15 },
        failed: [],
        interrupted: false,
      });
      const jobs = jobsFor(cloud.ice, MAIN_BUCKET);
      expect(jobs.map(imageOf).sort()).toEqual(expectedUrls(MAIN_BUCKET, seed.images));
      expect(new Set(jobs.map(imageOf)).size).toBe(jobs.length);
      expect(jobs.filter((job) => job.appId === 'sys-ao-smith-1')).toHaveLength(475);
      const invocations = cloud.fc.invocations().filter((invocation) => invocation.functionName === FUNCTION_NAME);
      expect(invocations.every((invocation) => invocation.invocationType === 'Async' && invocation.status === 202)).toBe(true);
      expect(invocations.map((invocation) => keyOfEvent(invocation.event)).sort()).toEqual([...seed.images].sort());
      expect(cloud.fc.asyncResults(FUNCTION_NAME).filter((record) => record.status !== 'succeeded')).toEqual([]);
    },
    SLOW_TEST_MS,
  );

  it(
    'submits nothing new on a full re-run, because every upload already has its job record',
    async () => {
      // Arrange
      const jobsBefore = jobsFor(cloud.ice, MAIN_BUCKET).length;
      const resultsBefore = cloud.fc.asyncResults(FUNCTION_NAME).length;

      // Act: the completed checkpoint of the first run makes this one start over.
      const summary = await cloud.backfill(MAIN_BUCKET);
      await cloud.fc.idle();

      // Assert
      expect(summary).toMatchObject({ invoked: 950, failed: [], interrupted: false });
      expect(summary.resumedFrom).toBeUndefined();
      // The records the first run wrote are listed now, and skipped as records: per job its upload's idempotency
      // record, its job record, its in-flight marker and its two index entries (no watcher ran).
      expect(summary.skipped['records-prefix']).toBe(15 + 950 * 5);
      expect(jobsFor(cloud.ice, MAIN_BUCKET)).toHaveLength(jobsBefore);
      const rerun = cloud.fc.asyncResults(FUNCTION_NAME).slice(resultsBefore);
      expect(rerun).toHaveLength(950);
      expect(rerun.every((record) => (record.result as { skipped: { reason: string }[] }).skipped[0]?.reason === 'duplicate')).toBe(true);
    },
    SLOW_TEST_MS,
  );

  it('invokes nothing in a dry run and reports what it would invoke', async () => {
    // Arrange
    const invocationsBefore = cloud.fc.invocations().length;
    const checkpointPath = join(cloud.dir.path, `${MAIN_BUCKET}.checkpoint.json`);
    const checkpointBefore = readFileSync(checkpointPath, 'utf8');

    // Act
    const summary = await cloud.backfill(MAIN_BUCKET, { dryRun: true, prefix: 'uploads/', checkpointPath });

    // Assert
    expect(summary).toMatchObject({ dryRun: true, listed: 985, invoked: 0, wouldInvoke: 950, skipped: { 'not-an-image': 20, 'empty-object': 15 } });
    expect(cloud.fc.invocations()).toHaveLength(invocationsBefore);
    expect(readFileSync(checkpointPath, 'utf8')).toBe(checkpointBefore);
  });

  it(
    'resumes an interrupted run after its checkpoint marker and still submits every image exactly once',
    async () => {
      // Arrange: abort at the 300th invocation, as Ctrl-C does (an invocation starts only after the run checked the signal).
      const controller = new AbortController();
      let invocations = 0;
      const checkpointPath = join(cloud.dir.path, 'resume.checkpoint.json');
      const countingSubmit = async (event: Buffer) => {
        invocations += 1;
        if (invocations === INTERRUPT_AFTER_INVOCATIONS) controller.abort();
        await cloud.invoker.invokeAsync(FUNCTION_NAME, event);
      };
      const first = await cloud.backfill(RESUME_BUCKET, { submit: countingSubmit, signal: controller.signal, checkpointPath });
      const checkpoint = checkpointSchema.parse(JSON.parse(readFileSync(checkpointPath, 'utf8')));
      const markers: (string | undefined)[] = [];
      const list = lister(cloud.ossClient(RESUME_BUCKET));

      // Act
      const second = await cloud.backfill(RESUME_BUCKET, {
        checkpointPath,
        list: (marker) => {
          markers.push(marker);
          return list(marker);
        },
      });
      await cloud.fc.idle();

      // Assert
      expect(first.interrupted).toBe(true);
      expect(first.invoked).toBe(INTERRUPT_AFTER_INVOCATIONS);
      expect(checkpoint).toMatchObject({ completed: false, marker: first.marker });
      expect(markers[0]).toBe(checkpoint.marker);
      expect(second).toMatchObject({ resumedFrom: checkpoint.marker, interrupted: false, failed: [] });
      expect(second.totals.invoked).toBe(first.invoked + second.invoked);
      const jobs = jobsFor(cloud.ice, RESUME_BUCKET);
      expect(jobs.map(imageOf).sort()).toEqual(expectedUrls(RESUME_BUCKET, seed.images));
      expect(new Set(jobs.map(imageOf)).size).toBe(jobs.length);
    },
    SLOW_TEST_MS,
  );
});
