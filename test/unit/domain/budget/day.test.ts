import { budgetDay, dayStartAt, nextResetAt, secondsUntilReset } from '../../../../shared/domain/budget/day';
import { uploadTokenFolder, uploadTokenOf } from '../../../../shared/domain/budget/upload-token';

describe("the budget's calendar day", () => {
  it.each([
    ['2026-12-02T15:59:59.999Z', '2026-12-02', '2026-12-02T16:00:00.000Z'],
    ['2026-12-02T16:00:00.000Z', '2026-12-03', '2026-12-03T16:00:00.000Z'],
    ['2026-12-31T23:30:00.000Z', '2027-01-01', '2027-01-01T16:00:00.000Z'],
  ])('puts %s in the Shanghai day %s, which renews at %s', (at, day, reset) => {
    // Act, Assert
    expect(budgetDay(new Date(at), 'Asia/Shanghai')).toBe(day);
    expect(nextResetAt(new Date(at), 'Asia/Shanghai').toISOString()).toBe(reset);
  });

  it('renews at local midnight across a daylight saving change (Europe/Berlin, 29 March 2026: a 23-hour day)', () => {
    // Arrange: 10:00 CET on the day the clocks go forward
    const at = new Date('2026-03-29T09:00:00.000Z');

    // Act
    const reset = nextResetAt(at, 'Europe/Berlin');
    const start = dayStartAt(at, 'Europe/Berlin');

    // Assert: midnight CEST (UTC+2) the next day; the day began at midnight CET (UTC+1)
    expect(reset.toISOString()).toBe('2026-03-29T22:00:00.000Z');
    expect(start.toISOString()).toBe('2026-03-28T23:00:00.000Z');
  });

  it('tells Retry-After in whole seconds, at least 1', () => {
    // Act, Assert
    expect(secondsUntilReset(new Date('2026-12-02T04:00:00.000Z'), 'Asia/Shanghai')).toBe(43_200);
    expect(secondsUntilReset(new Date('2026-12-02T15:59:59.900Z'), 'Asia/Shanghai')).toBe(1);
  });
});

describe("a page upload's token folder", () => {
  it('carries the name of the token that asked for the form, and only as the last folder', () => {
    // Act, Assert
    expect(`uploads/female/2026-12-02/${uploadTokenFolder('alice')}x.png`).toBe('uploads/female/2026-12-02/token-alice/x.png');
    expect(uploadTokenOf('uploads/female/2026-12-02/token-alice/x.png')).toBe('alice');
    expect(uploadTokenOf('uploads/female/token-alice/more/x.png')).toBeUndefined();
    expect(uploadTokenOf('uploads/female/2026-12-02/x.png')).toBeUndefined();
    expect(uploadTokenOf('uploads/female/token-a b/x.png')).toBeUndefined();
  });
});
