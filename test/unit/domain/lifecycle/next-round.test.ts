import { pendingRound, roundDone, scheduleNextRound, type NextRoundDependencies } from '../../../../shared/domain/lifecycle/next-round';
import type { FunctionInvoker, RecordStore } from '../../../../shared/domain/ports';
import { createLogger } from '../../../../shared/runtime/logger';

/** The next round's scheduling (shared/domain/lifecycle/next-round.ts) with its ports in memory: OSS keys, FC invocations. */
const PREFIX = '.yike-jobs/';
const MARKERS = `${PREFIX}watcher/rounds/`;
const NOW = Date.parse('2026-12-02T16:56:40.300Z');

function world(options: { invokeFails?: boolean } = {}) {
  const objects = new Map<string, unknown>();
  const store: Pick<RecordStore, 'createIfAbsent' | 'delete' | 'list'> = {
    async createIfAbsent(key, body) {
      if (objects.has(key)) return false;
      objects.set(key, body);
      return true;
    },
    async delete(key) {
      objects.delete(key);
    },
    async list(prefix, { after = '', limit = Number.POSITIVE_INFINITY } = {}) {
      return [...objects.keys()]
        .filter((key) => key.startsWith(prefix) && key > after)
        .sort()
        .slice(0, limit);
    },
  };
  const invocations: { functionName: string; event: unknown; asyncDelaySeconds?: number }[] = [];
  const invoker: FunctionInvoker = {
    async invokeAsync(functionName, payload, invokeOptions) {
      if (options.invokeFails) throw Object.assign(new Error('throttled'), { code: 'ResourceThrottled' });
      invocations.push({ functionName, event: JSON.parse(payload.toString('utf8')), asyncDelaySeconds: invokeOptions?.asyncDelaySeconds });
      return { requestId: `fc-${invocations.length}` };
    },
  };
  const deps: NextRoundDependencies = {
    store: store as RecordStore,
    recordsPrefix: PREFIX,
    self: { functionName: 'yike-job-watcher', invoker },
    logger: createLogger({ level: 'error', sink: () => undefined }),
    requestId: 'req-1',
  };
  return { deps, objects, invocations };
}

describe('scheduling the watcher’s next round', () => {
  it('invokes the watcher with the whole seconds until the round, notBefore in the event, under a create-only marker for that second', async () => {
    // Arrange
    const { deps, objects, invocations } = world();

    // Act: the round wanted 10 s after 16:56:40.3
    const next = await scheduleNextRound(deps, { wantedAt: NOW + 10_000, now: NOW });

    // Assert: due at 16:56:50 (the round comes at most a second before it was wanted), 10 s away
    expect(next).toEqual({ outcome: 'scheduled', dueAt: '2026-12-02T16:56:50.000Z', delaySeconds: 10, requestId: 'fc-1' });
    expect(invocations).toEqual([
      { functionName: 'yike-job-watcher', event: { yike: 'watch-round', notBefore: '2026-12-02T16:56:50.000Z' }, asyncDelaySeconds: 10 },
    ]);
    expect([...objects.keys()]).toEqual([`${MARKERS}2026-12-02T16:56:50.000Z`]);
  });

  it('schedules no second round while one is pending, and one again once that round has ended', async () => {
    // Arrange: a round scheduled for 16:56:50
    const { deps, invocations } = world();
    await scheduleNextRound(deps, { wantedAt: NOW + 10_000, now: NOW });

    // Act: another run wants one at 16:56:52; then the first round (at 16:56:50) schedules its own next one
    const other = await scheduleNextRound(deps, { wantedAt: NOW + 12_000, now: NOW + 2_000 });
    const roundsNext = await scheduleNextRound(deps, { wantedAt: NOW + 20_000, now: NOW + 10_000, ownDueAt: Date.parse('2026-12-02T16:56:50.000Z') });
    await roundDone(deps, Date.parse('2026-12-02T16:56:50.000Z'));

    // Assert
    expect(other).toEqual({ outcome: 'pending', dueAt: '2026-12-02T16:56:50.000Z' });
    expect(roundsNext).toMatchObject({ outcome: 'scheduled', dueAt: '2026-12-02T16:57:00.000Z' });
    expect(invocations).toHaveLength(2);
    expect(await pendingRound(deps, NOW + 10_500)).toBe(Date.parse('2026-12-02T16:57:00.000Z'));
  });

  it('leaves a round a minute or more away to the timer, invoking nothing', async () => {
    // Arrange
    const { deps, objects, invocations } = world();

    // Act
    const next = await scheduleNextRound(deps, { wantedAt: NOW + 61_000, now: NOW });

    // Assert
    expect(next).toEqual({ outcome: 'timer', dueAt: '2026-12-02T16:57:41.000Z' });
    expect(invocations).toEqual([]);
    expect(objects.size).toBe(0);
  });

  it('waits at least a second, for a round already due', async () => {
    // Act
    const next = await scheduleNextRound(world().deps, { wantedAt: NOW - 5_000, now: NOW });

    // Assert
    expect(next).toMatchObject({ outcome: 'scheduled', dueAt: '2026-12-02T16:56:42.000Z', delaySeconds: 2 });
  });

  it('removes its marker when the invoke fails, so the next run (the timer’s at the latest) schedules again', async () => {
    // Arrange
    const { deps, objects } = world({ invokeFails: true });

    // Act
    const next = await scheduleNextRound(deps, { wantedAt: NOW + 10_000, now: NOW });

    // Assert
    expect(next).toEqual({ outcome: 'failed', dueAt: '2026-12-02T16:56:50.000Z', error: 'INTERNAL' });
    expect(objects.size).toBe(0);
  });

  it('takes a round due more than 15 s ago that never ended for lost, and schedules a new one', async () => {
    // Arrange: a marker due 20 s ago (FC dropped that round)
    const { deps, objects } = world();
    objects.set(`${MARKERS}2026-12-02T16:56:20.000Z`, {});

    // Act
    const next = await scheduleNextRound(deps, { wantedAt: NOW + 10_000, now: NOW });

    // Assert
    expect(next.outcome).toBe('scheduled');
  });
});
