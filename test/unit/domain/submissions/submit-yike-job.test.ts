import { indexEntryName } from '../../../../shared/domain/lifecycle/job-index';
import { objectRecordKey, sha256 } from '../../../../shared/domain/submissions/record-keys';
import { submitYikeJob, type SubmitYikeJobInput } from '../../../../shared/domain/submissions/submit-yike-job';
import { answer, failure, NOON, postJobs, PREFIX, RECORDS, RESETS_AT, submitWorld, upload, UPLOADS, URL_OF, type SubmitWorld } from './submit-world';

const JOB_1 = { jobId: 'job-1', requestId: 'request-1', appId: 'sys-ao-smith-1' };

const recordOf = (world: SubmitWorld, key: string) => world.bucket(UPLOADS).read(objectRecordKey(PREFIX, { bucket: UPLOADS, key, eTag: 'E1' }));

/** The job index entries (job-index.ts) written with a job record submitted at NOON for the female app. */
const indexWrites = (jobId: string) => {
  const name = indexEntryName({ jobId, submittedAt: NOON.toISOString() });
  return [`create ${PREFIX}index/apps/sys-ao-smith-1/${name}`, `create ${PREFIX}index/jobs/${name}`];
};

describe('submitYikeJob: the one paid submit (check, budget, idempotent submit, record, track) with its ports faked', () => {
  it('submits an upload: the claim, then COMPLETED, and only then the job record and its in-flight marker', async () => {
    // Arrange
    const world = submitWorld();
    const input = upload('uploads/female/a.png');

    // Act
    const outcome = await submitYikeJob(input, world.deps);

    // Assert
    const store = world.bucket(UPLOADS);
    expect(answer(outcome)).toEqual({ status: 'executed', result: JOB_1 });
    expect(world.ice.calls).toEqual([
      { action: 'PrecheckYikeAIAppJob', appId: 'sys-ao-smith-1', appParams: JSON.stringify({ 'LoadImage.1.TargetImage': URL_OF('uploads/female/a.png') }) },
      { action: 'SubmitYikeAIAppJob', appId: 'sys-ao-smith-1', appParams: JSON.stringify({ 'LoadImage.1.TargetImage': URL_OF('uploads/female/a.png') }) },
    ]);
    expect(store.writes.slice(0, 2)).toEqual([`create ${input.once!.recordKey}`, `put ${input.once!.recordKey}`]);
    expect(store.writes.slice(2).sort()).toEqual([...indexWrites('job-1'), `create ${PREFIX}jobs/job-1.json`, `put ${PREFIX}inflight/job-1`]);
    expect(store.read(input.once!.recordKey)).toMatchObject({ status: 'COMPLETED', result: JOB_1, startedAt: NOON.toISOString() });
    expect(store.read(`${PREFIX}jobs/job-1.json`)).toMatchObject({
      jobId: 'job-1',
      entryPoint: 'upload',
      source: `oss://${UPLOADS}/uploads/female/a.png`,
      upload: { bucket: UPLOADS, key: 'uploads/female/a.png', eTag: 'E1' },
    });
  });

  it.each([
    ['a bucket off ALLOWED_BUCKETS', postJobs({ kind: 'oss', bucket: 'someone-elses', key: 'a.png' }), 'IMAGE_NOT_ALLOWED'],
    ['an image URL on another host', postJobs({ kind: 'url', url: 'https://evil.example.com/a.png' }), 'IMAGE_NOT_ALLOWED'],
    ['an unknown app', postJobs({ kind: 'url', url: URL_OF('a.png') }, 'k', 'robot'), 'UNKNOWN_APP'],
    ['an upload over MAX_IMAGE_BYTES', upload('uploads/female/huge.png', 1024 ** 3), 'IMAGE_TOO_LARGE'],
  ])('refuses %s before any ICE call or record', async (_name, input, code) => {
    // Arrange
    const world = submitWorld();

    // Act
    const error = await failure(submitYikeJob(input, world.deps));

    // Assert
    expect(error).toMatchObject({ code });
    expect(world.ice.calls).toEqual([]);
    expect(world.bucket(UPLOADS).writes).toEqual([]);
  });

  it('refuses a named {bucket, key} that does not exist after its HEAD, before any ICE call, and frees the claim', async () => {
    // Arrange
    const world = submitWorld();

    // Act
    const error = await failure(submitYikeJob(postJobs({ kind: 'oss', bucket: UPLOADS, key: 'uploads/none.png' }, 'scope-1'), world.deps));

    // Assert
    expect(error).toMatchObject({ code: 'IMAGE_NOT_FOUND', statusCode: 404 });
    expect(world.images.headed).toEqual([`oss://${UPLOADS}/uploads/none.png`]);
    expect(world.ice.calls).toEqual([]);
    expect(world.bucket(UPLOADS).writes).toEqual([`create ${PREFIX}http/scope-1.json`, `delete ${PREFIX}http/scope-1.json`]);
  });

  it('answers a second delivery with the first job and sends ICE nothing more', async () => {
    // Arrange
    const world = submitWorld();
    await submitYikeJob(upload('uploads/female/a.png'), world.deps);

    // Act
    const again = await submitYikeJob(upload('uploads/female/a.png'), world.deps);

    // Assert
    expect(answer(again)).toEqual({ status: 'duplicate', result: JOB_1 });
    expect(world.ice.actions()).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
  });

  it('leaves a live claim to its holder (in-progress, nothing sent) and takes over one whose invocation has ended', async () => {
    // Arrange: one claim held for another minute, one that expired a minute ago
    const world = submitWorld();
    const claim = (owner: string, expiresInMs: number) => ({
      schemaVersion: 1,
      status: 'IN_PROGRESS',
      idempotencyKey: owner,
      owner,
      startedAt: NOON.toISOString(),
      inProgressExpiresAt: new Date(NOON.getTime() + expiresInMs).toISOString(),
    });
    const [live, stale] = [upload('uploads/female/live.png'), upload('uploads/female/stale.png')];
    world.bucket(UPLOADS).seed(live.once!.recordKey, claim('live-owner', 60_000));
    world.bucket(UPLOADS).seed(stale.once!.recordKey, claim('stale-owner', -60_000));

    // Act
    const held = await submitYikeJob(live, world.deps);
    const takenOver = await submitYikeJob(stale, world.deps);

    // Assert
    expect(held).toMatchObject({
      status: 'in-progress',
      record: { owner: 'live-owner', inProgressExpiresAt: new Date(NOON.getTime() + 60_000).toISOString() },
    });
    expect(answer(takenOver)).toEqual({ status: 'executed', result: JOB_1 });
    expect(world.ice.actions()).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    expect(
      world
        .bucket(UPLOADS)
        .keys(PREFIX)
        .filter((key) => key.includes('.takeover-')),
    ).toEqual([]);
  });

  it('keeps OUTCOME_UNKNOWN when the submit’s answer is lost, and never sends that submit again', async () => {
    // Arrange
    const world = submitWorld();
    world.ice.answerNext('lost');

    // Act
    const first = await failure(submitYikeJob(upload('uploads/female/a.png'), world.deps));
    const retried = await failure(submitYikeJob(upload('uploads/female/a.png'), world.deps));

    // Assert
    expect(first).toMatchObject({ code: 'ICE_TIMEOUT', outcome: 'unknown' });
    expect(retried).toMatchObject({ code: 'OUTCOME_UNKNOWN', statusCode: 409 });
    expect(world.ice.actions()).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    expect(recordOf(world, 'uploads/female/a.png')).toMatchObject({ status: 'OUTCOME_UNKNOWN', error: { code: 'ICE_TIMEOUT' } });
    expect(world.bucket(UPLOADS).keys(`${PREFIX}jobs/`)).toEqual([]);
  });

  it('keeps REJECTED when ICE’s precheck refuses the image, and answers a redelivery with that refusal without asking ICE again', async () => {
    // Arrange
    const world = submitWorld();
    world.ice.refusedImages.add(URL_OF('uploads/female/blurry.png'));

    // Act
    const first = await failure(submitYikeJob(upload('uploads/female/blurry.png'), world.deps));
    const again = await failure(submitYikeJob(upload('uploads/female/blurry.png'), world.deps));

    // Assert
    expect(first).toMatchObject({ code: 'PRECHECK_FAILED' });
    expect(again).toMatchObject({ code: 'PRECHECK_FAILED', statusCode: 422 });
    expect(world.ice.actions()).toEqual(['PrecheckYikeAIAppJob']);
    expect(recordOf(world, 'uploads/female/blurry.png')).toMatchObject({ status: 'REJECTED', error: { code: 'PRECHECK_FAILED' } });
  });

  it('frees the claim when ICE refused the submit for sure (throttled), so the same Idempotency-Key submits once on the retry', async () => {
    // Arrange
    const world = submitWorld();
    world.ice.answerNext('throttled');
    world.images.put(UPLOADS, 'uploads/female/a.png');
    const input = postJobs({ kind: 'url', url: URL_OF('uploads/female/a.png') }, 'scope-45');

    // Act
    const failed = await failure(submitYikeJob(input, world.deps));
    const retried = await submitYikeJob(input, world.deps);

    // Assert
    expect(failed).toMatchObject({ code: 'Throttling.User', outcome: 'rejected' });
    expect(answer(retried)).toEqual({ status: 'executed', result: JOB_1 });
    expect(world.ice.actions().filter((action) => action === 'SubmitYikeAIAppJob')).toHaveLength(2);
    expect(world.bucket(UPLOADS).read(`${PREFIX}http/scope-45.json`)).toMatchObject({ status: 'COMPLETED', result: JOB_1 });
  });

  it('defers an upload over the budget (the line, a DEFERRED record), and answers its redelivery the same with nothing sent or written', async () => {
    // Arrange: a budget of 1, spent by the first upload
    const world = submitWorld({ perDay: 1 });
    await submitYikeJob(upload('uploads/female/a.png'), world.deps);
    const store = world.bucket(UPLOADS);

    // Act
    const deferred = await submitYikeJob(upload('uploads/female/b.png'), world.deps);
    const [writes, calls] = [store.writes.length, world.ice.calls.length];
    const redelivered = await submitYikeJob(upload('uploads/female/b.png'), world.deps);

    // Assert
    expect(deferred).toEqual({ status: 'deferred', code: 'BUDGET_EXHAUSTED', resetsAt: RESETS_AT });
    expect(redelivered).toEqual(deferred);
    expect([store.writes.length, world.ice.calls.length]).toEqual([writes, calls]);
    expect(recordOf(world, 'uploads/female/b.png')).toMatchObject({ status: 'DEFERRED', error: { code: 'BUDGET_EXHAUSTED', details: { day: '2026-12-02' } } });
    const line = store.keys(`${PREFIX}deferred/`).map((key) => store.read(key));
    expect(line).toEqual([
      expect.objectContaining({
        source: `oss://${UPLOADS}/uploads/female/b.png`,
        code: 'BUDGET_EXHAUSTED',
        day: '2026-12-02',
        recordKey: upload('uploads/female/b.png').once!.recordKey,
      }),
    ]);
    expect(line[0].item).toEqual({ kind: 'object', object: expect.objectContaining({ key: 'uploads/female/b.png', eTag: 'E1' }) });
  });

  it('refuses POST /jobs over the budget with BUDGET_EXHAUSTED (429) and stores nothing for it', async () => {
    // Arrange
    const world = submitWorld({ perDay: 1 });
    for (const key of ['a.png', 'b.png']) world.images.put(UPLOADS, key);
    await submitYikeJob(postJobs({ kind: 'url', url: URL_OF('a.png') }, 'scope-a'), world.deps);

    // Act
    const error = await failure(submitYikeJob(postJobs({ kind: 'url', url: URL_OF('b.png') }, 'scope-b'), world.deps));

    // Assert
    expect(error).toMatchObject({ code: 'BUDGET_EXHAUSTED', statusCode: 429, details: { retryAfterSeconds: 43_200, resetsAt: RESETS_AT } });
    expect(world.bucket(UPLOADS).keys(`${PREFIX}http/`)).toEqual([`${PREFIX}http/scope-a.json`]);
    expect(world.bucket(UPLOADS).keys(`${PREFIX}deferred/`)).toEqual([]);
  });

  it('renews deferred uploads through the same path: the DEFERRED record taken over, the image HEAD-read again; one still over keeps its place', async () => {
    // Arrange: b and c deferred on day 1; on day 2 (a budget of 1 again) their objects are still the same versions
    const world = submitWorld({ perDay: 1 });
    for (const name of ['a', 'b', 'c']) await submitYikeJob(upload(`uploads/female/${name}.png`), world.deps);
    for (const name of ['b', 'c']) world.images.put(UPLOADS, `uploads/female/${name}.png`, 'E1');
    world.setNow(new Date(Date.parse(RESETS_AT) + 30_000));

    // Act
    const renewed = await submitYikeJob({ ...upload('uploads/female/b.png'), renewal: {} }, world.deps);
    const stillOver = await submitYikeJob({ ...upload('uploads/female/c.png'), renewal: {} }, world.deps);

    // Assert
    expect(answer(renewed)).toEqual({ status: 'executed', result: { ...JOB_1, jobId: 'job-2', requestId: 'request-2' } });
    expect(stillOver).toEqual({ status: 'deferred', code: 'BUDGET_EXHAUSTED', resetsAt: '2026-12-03T16:00:00.000Z' });
    expect(world.images.headed).toEqual([`oss://${UPLOADS}/uploads/female/b.png`, `oss://${UPLOADS}/uploads/female/c.png`]);
    expect(recordOf(world, 'uploads/female/b.png')).toMatchObject({ status: 'COMPLETED', result: { jobId: 'job-2' } });
    expect(recordOf(world, 'uploads/female/c.png')).toMatchObject({ status: 'DEFERRED', error: { details: { day: '2026-12-03' } } });
    // The entries from day 1 only: a renewal never joins the line again (the renewal removes an entry once it is done).
    expect(world.bucket(UPLOADS).keys(`${PREFIX}deferred/`)).toHaveLength(2);
  });

  it('skips a renewed upload whose image was replaced or deleted meanwhile: SKIPPED with IMAGE_GONE, nothing sent', async () => {
    // Arrange
    const world = submitWorld({ perDay: 1 });
    await submitYikeJob(upload('uploads/female/a.png'), world.deps);
    await submitYikeJob(upload('uploads/female/b.png'), world.deps);
    await submitYikeJob(upload('uploads/female/c.png'), world.deps);
    world.images.put(UPLOADS, 'uploads/female/c.png', 'E2');
    world.setNow(new Date(Date.parse(RESETS_AT) + 30_000));
    const calls = world.ice.calls.length;

    // Act
    const deleted = await submitYikeJob({ ...upload('uploads/female/b.png'), renewal: {} }, world.deps);
    const replaced = await submitYikeJob({ ...upload('uploads/female/c.png'), renewal: {} }, world.deps);

    // Assert
    expect([deleted, replaced]).toEqual([{ status: 'image-gone' }, { status: 'image-gone' }]);
    expect(world.ice.calls.length).toBe(calls);
    expect(recordOf(world, 'uploads/female/b.png')).toMatchObject({
      status: 'SKIPPED',
      error: { code: 'IMAGE_GONE', message: `oss://${UPLOADS}/uploads/female/b.png was deleted while it waited for the budget` },
    });
    expect(recordOf(world, 'uploads/female/c.png')).toMatchObject({
      error: { message: `oss://${UPLOADS}/uploads/female/c.png was replaced (eTag E2, not E1) while it waited for the budget` },
    });
  });

  it('answers the job when its submit record cannot be marked COMPLETED, logs it, and still writes the job record', async () => {
    // Arrange
    const world = submitWorld();
    const input = upload('uploads/female/a.png');
    world.bucket(UPLOADS).refuse((op, key, body) => op === 'put' && key === input.once!.recordKey && (body as { status?: string }).status === 'COMPLETED');

    // Act
    const outcome = await submitYikeJob(input, world.deps);

    // Assert
    expect(answer(outcome)).toEqual({ status: 'executed', result: JOB_1 });
    expect(recordOf(world, 'uploads/female/a.png')).toMatchObject({ status: 'IN_PROGRESS' });
    expect(world.bucket(UPLOADS).keys(`${PREFIX}jobs/`)).toEqual([`${PREFIX}jobs/job-1.json`]);
    expect(world.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'job submitted but its submit record could not be written', recordKey: input.once!.recordKey }),
    );
  });

  it('answers the job when its job record cannot be written, and says the watcher writes it from the marker', async () => {
    // Arrange
    const world = submitWorld();
    world.bucket(UPLOADS).refuse((_op, key) => key.startsWith(`${PREFIX}jobs/`));

    // Act
    const outcome = await submitYikeJob(upload('uploads/female/a.png'), world.deps);

    // Assert
    expect(answer(outcome)).toEqual({ status: 'executed', result: JOB_1 });
    expect(world.bucket(UPLOADS).keys(`${PREFIX}inflight/`)).toEqual([`${PREFIX}inflight/job-1`]);
    expect(world.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^job submitted but its job record could not be written/), jobId: 'job-1' }),
    );
  });

  it('submits without a claim for yike-submit and POST /jobs without a key: a job record only where there is a records bucket', async () => {
    // Arrange
    const world = submitWorld();
    world.images.put(UPLOADS, 'a.png');
    const cli: SubmitYikeJobInput = { ...postJobs({ kind: 'url', url: URL_OF('a.png') }), source: 'yike-submit', entryPoint: 'cli' };

    // Act
    const fromCli = await submitYikeJob(cli, world.deps);
    world.config.records.bucket = RECORDS;
    const tracked = await submitYikeJob(cli, world.deps);

    // Assert
    expect([fromCli.status, tracked.status]).toEqual(['executed', 'executed']);
    expect(world.bucket(UPLOADS).writes).toEqual([]);
    expect(world.bucket(RECORDS).writes.sort()).toEqual([...indexWrites('job-2'), `create ${PREFIX}jobs/job-2.json`, `put ${PREFIX}inflight/job-2`]);
    expect(world.bucket(RECORDS).read(`${PREFIX}jobs/job-2.json`)).toMatchObject({ entryPoint: 'cli', source: `oss://${UPLOADS}/a.png` });
  });

  it('names RECORDS_BUCKET when a pipeline event’s image URL has no bucket to keep its submit record in, before any ICE call', async () => {
    // Arrange
    const world = submitWorld();
    world.config.http.allowedBuckets = [];
    const identity = sha256('step-1');

    // Act
    const error = await failure(
      submitYikeJob(
        {
          source: 'https://media.example.com/a.png',
          job: { app: 'male', payer: { source: 'https://media.example.com/a.png' } },
          image: { named: { kind: 'url', url: 'https://media.example.com/a.png' }, allowlist: 'when-configured' },
          once: { recordKey: `${PREFIX}pipeline/${identity}.json`, idempotencyKey: 'step-1' },
          overBudget: { defer: { kind: 'request', request: { imageUrl: 'https://media.example.com/a.png' } } },
          entryPoint: 'pipeline',
        },
        world.deps,
      ),
    );

    // Assert
    expect(error).toMatchObject({ code: 'RECORDS_BUCKET_REQUIRED', message: expect.stringContaining('RECORDS_BUCKET must be set') });
    expect(world.ice.calls).toEqual([]);
  });
});
