import { submitYikeJob } from '../../../../shared/domain/submissions/submit-yike-job';
import { answer, failure, postJobs, PREFIX, submitWorld, upload, UPLOADS, URL_OF } from './submit-world';

/** No silent app fallback: every job names its app, or routes to one by APP_ROUTES; nothing else is ever submitted. */
describe('submitYikeJob: the app rules (there is no default app)', () => {
  it('refuses a request that names no app (APP_REQUIRED, naming the field) before any ICE call or record: there is no default app', async () => {
    // Arrange
    const world = submitWorld();
    const input = postJobs({ kind: 'url', url: URL_OF('a.png') }, 'k');

    // Act
    const error = await failure(submitYikeJob({ ...input, job: { payer: input.job.payer } }, world.deps));

    // Assert
    expect(error).toMatchObject({ code: 'APP_REQUIRED', statusCode: 400, details: [{ path: 'app', message: 'required' }] });
    expect((error as Error).message).toBe('app: required: name the app (female, male or an AppId); there is no default app');
    expect(world.ice.calls).toEqual([]);
    expect(world.bucket(UPLOADS).writes).toEqual([]);
  });

  it('skips an upload under no APP_ROUTES prefix even over the budget: its record says SKIPPED (UNKNOWN_APP_PREFIX), no ICE call, nothing deferred', async () => {
    // Arrange: the day's one job is spent, so a routed upload would be deferred
    const world = submitWorld({ perDay: 1 });
    await submitYikeJob(upload('uploads/female/a.png'), world.deps);
    const input = upload('uploads/males/b.png');

    // Act
    const outcome = await submitYikeJob(input, world.deps);

    // Assert
    const message = 'uploads/males/b.png is under no APP_ROUTES prefix (APP_ROUTES names "uploads/female/", "uploads/male/"): not submitted to any app';
    expect(answer(outcome)).toEqual({ status: 'skipped', code: 'UNKNOWN_APP_PREFIX', message });
    expect(world.ice.actions()).toEqual(['PrecheckYikeAIAppJob', 'SubmitYikeAIAppJob']);
    expect(world.bucket(UPLOADS).read(input.once!.recordKey)).toMatchObject({ status: 'SKIPPED', error: { code: 'UNKNOWN_APP_PREFIX', message } });
    expect(world.bucket(UPLOADS).keys(`${PREFIX}deferred/`)).toEqual([]);
  });
});
