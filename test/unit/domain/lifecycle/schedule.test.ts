import { newJobRecord } from '../../../../shared/domain/lifecycle/job-record';
import { askIntervalMs, nextAskAt, nextWorkAt } from '../../../../shared/domain/lifecycle/schedule';

const MINUTE = 60_000;
const ROUND_MS = 10_000;

describe('when the watcher asks ICE about a job, and when a terminal job has work again', () => {
  it.each([
    [0, ROUND_MS],
    [9 * MINUTE, ROUND_MS],
    [10 * MINUTE, 30_000],
    [59 * MINUTE, 30_000],
    [60 * MINUTE, 60_000],
    [5 * 60 * MINUTE, 60_000],
  ])('asks a job %i ms old every %i ms', (ageMs, intervalMs) => {
    expect(askIntervalMs(ageMs, ROUND_MS)).toBe(intervalMs);
  });

  it('never asks more often than the rounds go', () => {
    expect(askIntervalMs(2 * 60 * MINUTE, 120_000)).toBe(120_000);
  });

  it('counts the age from the submit', () => {
    // Arrange
    const submittedAt = Date.parse('2026-12-01T10:00:00.000Z');
    const record = newJobRecord({ jobId: 'j', appId: 'a', source: 's', entryPoint: 'http', now: new Date(submittedAt) });

    // Act / Assert
    expect(nextAskAt(record, submittedAt + 5 * MINUTE, ROUND_MS)).toBe(submittedAt + 5 * MINUTE + ROUND_MS);
    expect(nextAskAt(record, submittedAt + 90 * MINUTE, ROUND_MS)).toBe(submittedAt + 91 * MINUTE);
  });

  it('wakes a terminal job for its next notification retry, or its copy’s, or the end of the copy wait, whichever is first', () => {
    // Arrange
    const now = Date.parse('2026-12-01T10:00:00.000Z');
    const base = { ...newJobRecord({ jobId: 'j', appId: 'a', source: 's', entryPoint: 'http' }), status: 'Finished', settledAt: new Date(now).toISOString() };
    const retryIn = (ms: number) => new Date(now + ms).toISOString();

    // Act
    const waiting = nextWorkAt(
      { ...base, copy: 'pending', copying: { attempts: 1, nextAttemptAt: retryIn(20_000) }, notifications: { webhook: { status: 'pending', attempts: 0 } } },
      300,
      now,
    );
    const retrying = nextWorkAt({ ...base, notifications: { webhook: { status: 'pending', attempts: 1, nextAttemptAt: retryIn(60_000) } } }, 300, now);
    const done = nextWorkAt({ ...base, notifications: { webhook: { status: 'delivered', attempts: 1 } } }, 300, now);
    const unsettled = nextWorkAt(base, 300, now);

    // Assert: the outcome notification waits for the copy, whose retry is due in 20 s
    expect(waiting).toBe(now + 20_000);
    expect(retrying).toBe(now + 60_000);
    // Only its marker left to drop, or its notifications to start: now.
    expect(done).toBe(now);
    expect(unsettled).toBe(now);
  });
});
