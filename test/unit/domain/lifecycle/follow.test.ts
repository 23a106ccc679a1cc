import { IceError } from '../../../../shared/runtime/errors';
import { followJob } from '../../../../shared/domain/lifecycle/follow';

/** A clock that only moves when the follower sleeps, so the tests take no time. */
function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    slept: () => now,
  };
}

function answers(...steps: ({ status: string } | Error)[]) {
  let index = 0;
  return async () => {
    const step = steps[Math.min(index++, steps.length - 1)]!;
    if (step instanceof Error) throw step;
    return step;
  };
}

describe('followJob', () => {
  it('reports the first status and each change once, and stops at a terminal status', async () => {
    // Arrange
    const clock = fakeClock();
    const changes: string[] = [];

    // Act
    const outcome = await followJob({
      poll: answers({ status: 'Queuing' }, { status: 'Queuing' }, { status: 'Executing' }, { status: 'Finished' }),
      timeoutMs: 60_000,
      intervalMs: 1000,
      onChange: (job, elapsedMs) => changes.push(`${elapsedMs} ${job.status}`),
      ...clock,
    });

    // Assert
    expect(changes).toEqual(['0 Queuing', '2000 Executing', '3000 Finished']);
    expect(outcome).toEqual({ outcome: 'terminal', job: { status: 'Finished' }, elapsedMs: 3000, polls: 4 });
  });

  it('polls through throttling and a job ICE does not list yet, and throws other errors', async () => {
    // Arrange
    const clock = fakeClock();
    const throttled = new IceError('Throttling.User', 'slow down', 'rejected', { retryable: true, statusCode: 400 });
    const notYet = new IceError('ResourceNotFound', 'no such job', 'rejected', { statusCode: 404 });
    const denied = new IceError('Forbidden.RAM', 'no permission', 'rejected', { statusCode: 403 });
    const transient: string[] = [];

    // Act
    const finished = await followJob({
      poll: answers(notYet, throttled, { status: 'Failed' }),
      timeoutMs: 60_000,
      intervalMs: 500,
      onTransientError: (error) => transient.push((error as IceError).code),
      ...clock,
    });
    const refused = followJob({ poll: answers(denied), timeoutMs: 60_000, intervalMs: 500, ...fakeClock() });

    // Assert
    expect(finished).toMatchObject({ outcome: 'terminal', job: { status: 'Failed' }, polls: 3 });
    expect(transient).toEqual(['ResourceNotFound', 'Throttling.User']);
    await expect(refused).rejects.toBe(denied);
  });

  it('ends at the deadline with the last answer, its final poll cut to the deadline', async () => {
    // Arrange
    const clock = fakeClock();

    // Act
    const outcome = await followJob({ poll: answers({ status: 'Executing' }), timeoutMs: 2500, intervalMs: (count) => count * 1000, ...clock });

    // Assert: polls at 0, 1000, 2500 (the 2 s pause cut to 1.5 s)
    expect(outcome).toEqual({ outcome: 'timeout', job: { status: 'Executing' }, elapsedMs: 2500, polls: 3 });
  });
});
