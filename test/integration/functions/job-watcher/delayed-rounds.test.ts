import type { AsyncInvocationRecord } from '../../../../local/fc/async';
import type { WatcherSummary } from '../../../../shared/domain/lifecycle/watcher';
import type { TuningOverrides } from '../../../../shared/runtime/tuning';
import { logCapture } from '../../../helpers/local-cloud';
import { BUCKET, startWatcherWorld, type WatcherWorld } from './watcher-world';

/**
 * Rounds as delayed invocations (docs/lifecycle.md#rounds), on the local cloud: the watcher invokes itself through the
 * local FC API with x-fc-async-delay, whose delays wait on the world's simulated clock (moving it past a delay runs
 * the round), and ends. No assertion reads the machine's clock.
 */
const DELAYED: TuningOverrides = { lifecycle: { delayedRounds: true } };
const ROUND_MARKERS = '.yike-jobs/watcher/rounds/';

/** The run a scheduled round started, once the clock has reached its delay and it has finished. */
async function runRound(world: WatcherWorld, requestId: string, delaySeconds: number): Promise<WatcherSummary> {
  world.clock.advance(delaySeconds * 1000);
  const record: AsyncInvocationRecord = await world.fc.settled(requestId);
  expect(record.status).toBe('succeeded');
  return record.result as WatcherSummary;
}

describe('the watcher schedules its next round as a delayed invocation of itself instead of sleeping', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: 45_000 });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('returns without sleeping from a run with jobs in flight, having made exactly one delayed self-invocation', async () => {
    // Arrange: a job of 45 s, the tick 1 s after its submit
    const { jobId } = await world.upload('uploads/female/delayed.png');
    world.clock.advance(1_000);
    const tickAt = world.clock.now();

    // Act
    const summary = await world.watch({}, 65, { tuning: DELAYED });

    // Assert: one round, no time spent on the simulated clock, and the next round handed to FC 10 s later
    const dueAt = new Date(Math.floor((tickAt + 10_000) / 1000) * 1000).toISOString();
    expect(summary).toMatchObject({ rounds: 1, inflight: 1, durationMs: 0, nextRound: { outcome: 'scheduled', dueAt, delaySeconds: 10 } });
    const invocations = world.selfInvocations();
    expect(
      invocations.map(({ functionName, invocationType, asyncDelaySeconds, status }) => ({ functionName, invocationType, asyncDelaySeconds, status })),
    ).toEqual([{ functionName: 'yike-job-watcher', invocationType: 'Async', asyncDelaySeconds: 10, status: 202 }]);
    expect(JSON.parse(invocations[0]!.event.toString('utf8'))).toEqual({ yike: 'watch-round', notBefore: dueAt });
    expect(world.oss.listKeys(BUCKET).filter((key) => key.startsWith(ROUND_MARKERS))).toEqual([`${ROUND_MARKERS}${dueAt}`]);
    expect(world.deliveries).toEqual([]);
    expect(jobId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('schedules one round when two runs overlap', async () => {
    // Arrange
    await world.upload('uploads/female/overlap.png');
    world.clock.advance(1_000);

    // Act: two ticks at the same moment (FC may run a slow tick beside the next one)
    const summaries = await Promise.all([world.watch({}, 65, { tuning: DELAYED }), world.watch({}, 65, { tuning: DELAYED })]);

    // Assert: one scheduled it, the other found it pending
    expect(summaries.map((summary) => summary.nextRound?.outcome).sort()).toEqual(['pending', 'scheduled']);
    expect(world.selfInvocations()).toHaveLength(1);
  });

  it('leaves the polling to a scheduled round due within a round when the timer fires: no round, no ICE call', async () => {
    // Arrange: a tick that scheduled a round 10 s later
    await world.upload('uploads/female/timer-floor.png');
    const first = await world.watch({}, 65, { tuning: DELAYED });
    const iceCalls = world.ice.calls().length;
    world.clock.advance(2_000);

    // Act: another tick 2 s later
    const second = await world.watch({}, 65, { tuning: DELAYED });

    // Assert
    expect(second).toMatchObject({ rounds: 0, nextRound: { outcome: 'pending', dueAt: (first.nextRound as { dueAt: string }).dueAt } });
    expect(world.ice.calls()).toHaveLength(iceCalls);
    expect(world.selfInvocations()).toHaveLength(1);
  });

  it('follows a job to its end round by round, each round scheduling the next, and schedules nothing once none is in flight', async () => {
    // Arrange
    const { jobId } = await world.upload('uploads/female/chain.png');
    const submittedAt = world.clock.now();
    const tick = await world.watch({}, 65, { tuning: DELAYED });

    // Act: let each scheduled round run when its delay is over
    const rounds: WatcherSummary[] = [];
    let next = tick.nextRound;
    while (next?.outcome === 'scheduled') {
      const summary = await runRound(world, next.requestId, next.delaySeconds);
      rounds.push(summary);
      next = summary.nextRound;
    }

    // Assert: rounds 10 s apart until the job ended (45 s), one invocation each, notified once within a round
    expect(rounds.map((summary) => summary.rounds)).toEqual([1, 1, 1, 1, 1]);
    expect(world.selfInvocations()).toHaveLength(5);
    expect(world.deliveries.map((delivery) => delivery.body.id)).toEqual([`${jobId}.finished`]);
    expect(world.deliveries[0]!.atMs - (submittedAt + 45_000)).toBeLessThanOrEqual(10_000);
    expect(rounds.at(-1)!.nextRound).toBeUndefined();
    // Each round removed its own marker once it had scheduled the next: nothing is left pending.
    expect(world.oss.listKeys(BUCKET).filter((key) => key.startsWith(ROUND_MARKERS))).toEqual([]);
  });

  it('notifies a job that finishes 8 s after its submit within 15 s of the submit', async () => {
    // Arrange: a world whose jobs take 8 s; the tick 1 s after the submit
    const fast = await startWatcherWorld({ jobMs: 8_000 });
    try {
      const { jobId } = await fast.upload('uploads/female/eight-seconds.png');
      const submittedAt = fast.clock.now();
      fast.clock.advance(1_000);
      const tick = await fast.watch({}, 65, { tuning: DELAYED });

      // Act: the scheduled round runs when its delay is over
      expect(tick.nextRound?.outcome).toBe('scheduled');
      const round = await runRound(fast, (tick.nextRound as { requestId: string }).requestId, (tick.nextRound as { delaySeconds: number }).delaySeconds);

      // Assert
      expect(round.settled).toBe(1);
      const [delivery] = fast.deliveries;
      expect(delivery!.body.id).toBe(`${jobId}.finished`);
      expect(delivery!.atMs - submittedAt).toBeLessThanOrEqual(15_000);
    } finally {
      await fast.close();
    }
  });
});

describe('when FC ignores x-fc-async-delay (LOCAL_FC_IGNORE_ASYNC_DELAY=1 on the local FC API)', () => {
  let world: WatcherWorld;

  beforeAll(async () => {
    world = await startWatcherWorld({ jobMs: 10 * 60_000, ignoreAsyncDelay: true });
  });
  afterAll(() => world.close());
  beforeEach(() => world.reset());

  it('a round that arrives early waits for its time, polls in sleeping rounds, warns once and schedules no other round', async () => {
    // Arrange
    await world.upload('uploads/female/early.png');
    const log = logCapture();

    // Act: the tick schedules a round; FC runs it at once
    const tick = await world.watch({ LOG_LEVEL: 'warn' }, 65, { tuning: DELAYED, sink: log.sink });
    const [invocation] = world.selfInvocations();
    const early = (await world.fc.settled(invocation!.requestId)).result as WatcherSummary;

    // Assert: the early run waited its 10 s, then polled until its time ran out, and scheduled nothing
    expect(tick.nextRound?.outcome).toBe('scheduled');
    expect(early.earlyByMs).toBeGreaterThan(9_000);
    expect(early.earlyByMs).toBeLessThanOrEqual(10_000);
    expect(early.rounds).toBeGreaterThanOrEqual(4);
    expect(early.nextRound).toBeUndefined();
    expect(world.selfInvocations()).toHaveLength(1);
    const warnings = log.lines().filter((line) => line.level === 'warn');
    expect(warnings.map((line) => line.message)).toEqual([
      'scheduled round arrived early: FC ignored x-fc-async-delay; it waits for its time, then polls in sleeping rounds',
    ]);
  });

  it('keeps the invocations to at most 2 a minute (the tick and one round) while a job is in flight', async () => {
    // Arrange: a job of 10 minutes
    await world.upload('uploads/female/bounded.png');
    const start = world.clock.now();

    // Act: five minutes of ticks, each run (and the round it starts) to its end
    const perMinute: number[] = [];
    for (let minute = 0; minute < 5; minute++) {
      world.clock.advance(Math.max(0, start + minute * 60_000 - world.clock.now()));
      const before = world.selfInvocations().length;
      await world.watch({}, 65, { tuning: DELAYED });
      const started = world.selfInvocations().slice(before);
      await Promise.all(started.map((invocation) => world.fc.settled(invocation.requestId)));
      perMinute.push(1 + started.length);
    }

    // Assert
    expect(perMinute).toEqual([2, 2, 2, 2, 2]);
  });
});
