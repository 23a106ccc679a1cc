import { join } from 'node:path';
import { CHILD_SCRIPT, runNode } from '../lib/processes';
import { BENCH_IMAGE_KEY } from '../lib/samples';
import { atMost, info, type BenchModule, type BenchRow } from '../lib/types';

/**
 * What JOB_BUDGET_PER_DAY costs an upload (docs/budget.md): oss-submit runs in a process of its own (an FC instance)
 * with and without a budget, and the OSS stand-in counts the requests each made, by what they are. Warm: one slot
 * claim per upload, plus the hint every 16th; the first upload of an instance's day also reads the hint and checks
 * that the day is open to new work. Without a budget: not one request more than before.
 */
const RUNS = 160;
/** Far past what the bench submits: every claim is the uncontended one an instance makes on a quiet day. */
const LARGE_BUDGET = '1000000';
/** "About one extra OSS round trip per submit" (issue 18): the slot, and the hint every 16th upload. */
const MAX_EXTRA_WARM = 1.1;

type Request = { method: string; key?: string; status: number };

function budgetRequestName(request: Request): string | undefined {
  const key = request.key ?? '';
  if (request.key === undefined && request.method === 'GET') return 'listing';
  if (/\/budget\/[^/]+\/slots\/\d+$/.test(key)) return 'slot PUT';
  if (key.endsWith('/hint.json')) return `hint ${request.method}`;
  if (key.endsWith('/renewal-done.json')) return `renewal-done ${request.method}`;
  if (/\/deferred\//.test(key)) return `deferred ${request.method}`;
  return undefined;
}

function summarize(requests: Request[], runs: number): { perUpload: number; text: string } {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const name = budgetRequestName(request);
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  return { perUpload: total / runs, text: [...counts].map(([name, count]) => `${name} ${count}`).join(', ') || 'none' };
}

export const budget: BenchModule = {
  name: 'budget',
  async run({ dist, oss, env, runId, progress }) {
    const entry = join(dist, 'oss-submit', 'index.js');
    const measure = async (extra: Record<string, string>, mode: 'cold' | 'warm', tag: string) => {
      const before = oss.requests().length;
      const args =
        mode === 'cold'
          ? [CHILD_SCRIPT, 'cold', entry, 'oss-submit', `${runId}-${tag}`]
          : [CHILD_SCRIPT, 'warm', entry, 'oss-submit', `${runId}-${tag}`, String(RUNS)];
      await runNode(args, { ...process.env, ...env, ...extra });
      // Not the function's: ICE's precheck reading the image, as ICE would from its side.
      return oss
        .requests()
        .slice(before)
        .filter((request) => !(request.method === 'GET' && request.key === BENCH_IMAGE_KEY));
    };
    progress(`budget: ${RUNS} warm uploads with and without JOB_BUDGET_PER_DAY, and a cold instance's first upload`);
    const without = await measure({}, 'warm', 'budget-off');
    const withBudget = await measure({ JOB_BUDGET_PER_DAY: LARGE_BUDGET }, 'warm', 'budget-on');
    const cold = await measure({ JOB_BUDGET_PER_DAY: LARGE_BUDGET }, 'cold', 'budget-cold');
    const off = summarize(without, RUNS);
    const on = summarize(withBudget, RUNS);
    const first = summarize(cold, 1);
    const rows: BenchRow[] = [
      atMost(`oss-submit without a budget: OSS round trips per upload for the budget (${off.text})`, off.perUpload, 0, '', 2),
      atMost(
        `oss-submit with JOB_BUDGET_PER_DAY, warm instance: extra OSS round trips per upload (${on.text} over ${RUNS} uploads)`,
        on.perUpload,
        MAX_EXTRA_WARM,
        '',
        2,
      ),
      info(
        `oss-submit with JOB_BUDGET_PER_DAY: a cold instance's first upload of the day, extra OSS round trips (${first.text})`,
        String(first.perUpload),
        first.perUpload,
      ),
      info(
        "oss-submit: the function's OSS round trips per upload, without / with a budget (warm)",
        `${(without.length / RUNS).toFixed(2)} / ${(withBudget.length / RUNS).toFixed(2)}`,
        withBudget.length / RUNS - without.length / RUNS,
      ),
    ];
    return rows;
  },
};
