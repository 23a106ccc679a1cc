/**
 * The budget's calendar day: `YYYY-MM-DD` in BUDGET_TIMEZONE, and the instant the next one starts (the reset). Time
 * zones come from Intl (Node's full ICU), so a zone with daylight saving time resets at its own midnight too.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(atMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(atMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** How far the zone's wall clock is ahead of UTC at `atMs`, in milliseconds. */
function offsetMs(atMs: number, timeZone: string): number {
  const wall = wallClock(atMs, timeZone);
  const wallAsUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return wallAsUtc - (atMs - (((atMs % 1000) + 1000) % 1000));
}

/** The budget day `at` falls in, e.g. `2026-12-02`. */
export function budgetDay(at: Date, timeZone: string): string {
  const { year, month, day } = wallClock(at.getTime(), timeZone);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** When the day after `at`'s begins in the zone (its midnight, as an instant). */
export function nextResetAt(at: Date, timeZone: string): Date {
  const { year, month, day } = wallClock(at.getTime(), timeZone);
  const midnightAsUtc = Date.UTC(year, month - 1, day + 1);
  // Twice: the offset at the guess can differ from the offset at midnight when daylight saving time changes between.
  let resetMs = midnightAsUtc - offsetMs(midnightAsUtc, timeZone);
  resetMs = midnightAsUtc - offsetMs(resetMs, timeZone);
  return new Date(resetMs);
}

/** Whole seconds from `at` to the reset (at least 1): what `Retry-After` says. */
export function secondsUntilReset(at: Date, timeZone: string): number {
  return Math.max(1, Math.ceil((nextResetAt(at, timeZone).getTime() - at.getTime()) / 1000));
}

/** When `at`'s day began in the zone (the last reset). */
export function dayStartAt(at: Date, timeZone: string): Date {
  return nextResetAt(new Date(at.getTime() - 24 * 3_600_000), timeZone);
}
