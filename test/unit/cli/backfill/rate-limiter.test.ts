import { createRateLimiter } from '../../../../cli/backfill/rate-limiter';
import { fakeClock } from './fixtures';

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
