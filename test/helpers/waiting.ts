/**
 * Waiting in tests without depending on how fast the machine is (docs/reliability.md, "A suite that passes on a
 * busy machine"): a test awaits the event itself, or polls for it with a deadline so far away that it fails only
 * when the thing never happens, never because the machine was slow.
 */

/** How long eventually() polls before it says the thing never happened: far beyond any loaded machine's delay. */
const EVENTUALLY_DEADLINE_MS = 30_000;
const POLL_MS = 10;

/**
 * For a stand-in's injected delay that must outlast every client timeout under test: the answer never comes while
 * the test runs (the stand-in drops it when its client has gone or when it closes), so no margin between two
 * timers decides the outcome.
 */
export const NEVER_ANSWERS_MS = 10 * 60_000;

/** Resolves with the probe's first truthy answer; polls every few ms and fails after a generous deadline. */
export async function eventually<T>(probe: () => T | Promise<T>, what: string, deadlineMs = EVENTUALLY_DEADLINE_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answer = await probe();
    if (answer) return answer as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`never happened within ${deadlineMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A promise the test settles: a gate the code under test waits at until the test opens it. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A clock that moves only when the code under test sleeps on it: what it does over time, without waiting for it. */
export function simulatedClock(startMs = Date.now()): { ms: () => number; now: () => Date; sleep: (ms: number) => Promise<void> } {
  let nowMs = startMs;
  return {
    ms: () => nowMs,
    now: () => new Date(nowMs),
    sleep: async (ms) => {
      nowMs += ms;
    },
  };
}
