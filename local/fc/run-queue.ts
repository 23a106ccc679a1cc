/** FC's async queue on the local FC API: accepted invocations wait here for a free instance. */
/** Runs at most `limit` tasks at once, in arrival order. */
export function createRunQueue(limit: number): { push(task: () => Promise<unknown>): void; idle(): Promise<void> } {
  const waiting: Array<() => Promise<unknown>> = [];
  let running = 0;
  let drained: Array<() => void> = [];
  const pump = (): void => {
    while (running < limit && waiting.length > 0) {
      const task = waiting.shift()!;
      running += 1;
      void task()
        .catch(() => undefined)
        .finally(() => {
          running -= 1;
          pump();
        });
    }
    if (running === 0 && waiting.length === 0) {
      for (const resolve of drained) resolve();
      drained = [];
    }
  };
  return {
    push(task) {
      waiting.push(task);
      pump();
    },
    idle: () => (running === 0 && waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => drained.push(resolve))),
  };
}
