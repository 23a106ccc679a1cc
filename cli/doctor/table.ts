import type { DeploymentCheck } from '../../shared/domain/doctor/deployment-checks';

/**
 * The doctor's one table: a line per check (the same check of several functions is one line: ✖ when any failed),
 * ✔ / ✖ / –, what was seen (per function when they differ) and, for a ✖, how to fix it. Pipes between the columns,
 * so the table pastes into an issue as Markdown.
 */
const SYMBOL = { pass: '✔', fail: '✖', skip: '–' } as const;

interface Row {
  check: string;
  status: keyof typeof SYMBOL;
  /** A ✖ that makes the deployment not ready. */
  required: boolean;
  detail: string;
  fix: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function mergedRows(checks: readonly DeploymentCheck[]): Row[] {
  const groups = new Map<string, DeploymentCheck[]>();
  for (const check of checks) groups.set(check.id, [...(groups.get(check.id) ?? []), check]);
  return [...groups.values()].map((group) => {
    const failed = group.filter((check) => check.status === 'fail');
    const status: Row['status'] = failed.length > 0 ? 'fail' : group.some((check) => check.status === 'pass') ? 'pass' : 'skip';
    const details = [...new Set(group.map((check) => check.detail))];
    const named = (check: DeploymentCheck) => (check.functionName ? `${check.functionName}: ${check.detail}` : check.detail);
    const shown = failed.length > 0 ? failed : group;
    const detail =
      details.length === 1
        ? group.length > 1
          ? `${details[0]} (${group.map((check) => check.functionName).join(', ')})`
          : named(group[0]!)
        : shown.map(named).join(' · ');
    return {
      check: group[0]!.title,
      status,
      required: failed.some((check) => check.required),
      detail,
      fix: [...new Set(failed.map((check) => check.fix ?? ''))].filter(Boolean).join(' · '),
    };
  });
}

export function renderTable(checks: readonly DeploymentCheck[]): string {
  const rows = mergedRows(checks);
  const lines = [
    '| check | | detail | how to fix |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${cell(row.check)} | ${SYMBOL[row.status]} | ${cell(row.detail)} | ${cell(row.fix)} |`),
  ];
  const count = (status: Row['status']) => rows.filter((row) => row.status === status).length;
  const ready = !rows.some((row) => row.status === 'fail' && row.required);
  const notices = rows.filter((row) => row.status === 'fail' && !row.required).length;
  lines.push(
    '',
    `${count('pass')} ✔, ${count('fail')} ✖, ${count('skip')} –: ${
      ready
        ? `this deployment is ready${notices > 0 ? ` (${notices} ✖ ${notices === 1 ? 'line works' : 'lines work'}, less well than it could: see how to fix)` : ''} (drop one image under the upload prefix to see it work)`
        : 'not ready: fix the ✖ lines and run npx yike-doctor again'
    }`,
  );
  return `${lines.join('\n')}\n`;
}
