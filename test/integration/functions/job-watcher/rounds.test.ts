import { createHandler as createWatcherHandler } from '../../../../functions/job-watcher/index';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';
import { fcContext } from '../../../helpers/local-cloud';
import { lockstepClock, startWatcherWorld, type WatcherWorld } from './watcher-world';

const JOB_MS = 45_000;

// Sleeping rounds (the world's default): what a scheduled round FC delivered early does, and a run that cannot invoke
// itself. Rounds as delayed invocations, the default design: delayed-rounds.test.ts.
describe('a watcher run that sleeps between its rounds polls in rounds while jobs are in flight', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: JOB_MS });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('ends at once when no job is in flight', async () => {
    // Act
    const summary = await world.watch();

    // Assert
    expect(summary).toMatchObject({ rounds: 1, inflight: 0, iceCalls: 0 });
    expect(summary.durationMs).toBeLessThan(5_000);
  });

  it('follows a job to its end within one run, noticing ICE’s finish within one round, and ends its rounds with the job', async () => {
    // Arrange: a job that finishes 45 s after its submit, the run starting 1 s after it
    const startedAt = world.clock.now();
    const { jobId } = await world.upload('uploads/female/rounds.png');
    world.clock.advance(1_000);

    // Act
    const summary = await world.watch();

    // Assert: asked every 10 s (rounds at 1, 11, 21, 31, 41, 51 s), notified in the round after it finished
    expect(summary).toMatchObject({ settled: 1, delivered: 2, copied: 1, stoppedEarly: false });
    expect(summary.rounds).toBe(6);
    expect(world.ice.calls().filter((call) => call.action === 'BatchGetYikeAIAppJob')).toHaveLength(6);
    const [delivery] = world.deliveries;
    expect(delivery!.body.id).toBe(`${jobId}.finished`);
    const lagMs = delivery!.atMs - (startedAt + JOB_MS);
    expect(lagMs).toBeGreaterThanOrEqual(0);
    expect(lagMs).toBeLessThanOrEqual(10_000);
    // The run ended with the job, not at its timeout: 50 s of rounds, not 65.
    expect(summary.durationMs).toBeLessThan(55_000);
  });

  it('starts no round that could not notify before the function’s timeout, leaving the job to the next tick', async () => {
    // Arrange: a job that runs longer than one run
    await world.upload('uploads/female/long.png');

    // Act: a 30 s function with the default 10 s reserve (webhook timeout 2 s + 5 s... at least 7 s)
    const summary = await world.watch({}, 30);

    // Assert: rounds at 0, 10 and 20 s; one at 30 s would end past the timeout
    expect(summary.rounds).toBe(3);
    expect(summary.durationMs).toBeLessThan(30_000 - 7_000);
    expect(summary).toMatchObject({ settled: 0, inflight: 1 });
  });

  it('asks a job that has run for over an hour every minute instead of every round', async () => {
    // Arrange: a job submitted 61 minutes ago that is still running (a 2 h job)
    const slow = await startWatcherWorld({ jobMs: 2 * 3_600_000 });
    try {
      await slow.upload('uploads/female/very-long.png');
      slow.clock.advance(61 * 60_000);

      // Act: one 65 s run
      const summary = await slow.watch();

      // Assert: asked in the first round only (the next ask is 60 s later, past the run), so the run ends at once
      expect(summary).toMatchObject({ rounds: 1, iceCalls: 1 });
    } finally {
      await slow.close();
    }
  });

  it('notifies each job once when two runs poll in rounds at the same moments', async () => {
    // Arrange: 1 s rounds; two 20 s runs (6 s kept in reserve, a copy needs 5 s more) started at once on one simulated
    // clock, so every round of one runs at the same time as a round of the other; three jobs of 2 s submitted 1.5 s
    // apart while they run, so each finishes while both are polling
    const clock = lockstepClock(Date.now());
    const real = await startWatcherWorld({ jobMs: 2_000, ice: { now: clock.now } });
    try {
      const run = () =>
        createWatcherHandler({
          env: real.env(),
          tuning: real.tuning({ lifecycle: { roundSeconds: 1, webhook: { timeoutMs: 1_000 } } }),
          now: () => new Date(clock.now()),
          sleep: clock.sleep,
        })(asFcPayload(loadEvent('fc3-timer')), fcContext({ function: { name: 'yike-job-watcher', timeout: 20 } }));
      const startedAt = clock.now();
      const jobIds = [(await real.upload('uploads/female/overlap-a.png')).jobId];
      // b before a finishes, c before b does: a job is in flight from the first round to the last notification.
      const uploadAt = (name: string, afterMs: number) => ({
        at: startedAt + afterMs,
        act: async () => jobIds.push((await real.upload(`uploads/female/overlap-${name}.png`)).jobId),
      });

      // Act
      const runs = [clock.start(run), clock.start(run)];
      await clock.run([uploadAt('b', 1_500), uploadAt('c', 3_000)]);
      const summaries = await Promise.all(runs);

      // Assert: both polled in rounds, every job was notified, none twice
      expect(summaries.map((summary) => summary.rounds > 3)).toEqual([true, true]);
      expect(real.deliveries.map((delivery) => delivery.body.id).sort()).toEqual(jobIds.map((jobId) => `${jobId}.finished`).sort());
      expect(summaries[0]!.delivered + summaries[1]!.delivered).toBe(6);
    } finally {
      await real.close();
    }
  });
});
