import { startFcTimer } from '../../../local/fc/timer';
import { parseTimerEvent } from '../../../shared/triggers/events/timer';
import { LOCAL_CREDENTIALS } from '../../helpers/local-cloud';
import { eventually, gate } from '../../helpers/waiting';

describe('the local FC timer trigger', () => {
  it('invokes the handler with the documented timer event as a Buffer and an FC context, one tick at a time, skipping ticks due while one runs', async () => {
    // Arrange: the first tick holds until the test lets it end
    const events: Buffer[] = [];
    const contexts: Record<string, unknown>[] = [];
    let running = 0;
    let maxRunning = 0;
    const firstTick = gate();
    const timer = startFcTimer({
      intervalMs: 10,
      credentials: LOCAL_CREDENTIALS,
      handler: async (event, context) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        events.push(event);
        contexts.push(context);
        await firstTick.opened;
        running--;
        return events.length;
      },
    });

    // Act: ticks fall due every 10 ms while the first one runs; then it ends, and one more tick runs after it
    await eventually(() => events.length > 0, 'the first tick');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const whileRunning = events.length;
    firstTick.open();
    const result = await timer.tickNow();
    await timer.stop();

    // Assert
    expect(Buffer.isBuffer(events[0])).toBe(true);
    expect(parseTimerEvent(events[0])).toEqual({
      triggerTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      triggerName: 'job-watcher-timer',
      payload: '',
    });
    expect(contexts[0]).toMatchObject({ credentials: LOCAL_CREDENTIALS, function: { name: 'yike-job-watcher', timeout: 60 } });
    expect(whileRunning).toBe(1);
    expect(maxRunning).toBe(1);
    expect(result).toBe(events.length);
  });
});
