/**
 * RAM as the cloud applies a policy to a request, for the tests that hold the generated role policy against the calls
 * the functions really make (test/integration/deploy/recorded-calls.test.ts), and the policy syntax RAM accepts.
 *
 * Sources:
 * - [SYNTAX] RAM "Policy structure and syntax" (alibabacloud.com help document 93739): a policy is {Version: "1",
 *            Statement: [...]}; a statement has Effect (Allow | Deny), Action or NotAction, Resource, optional Condition
 *            (and Principal only in a trust policy). Action and Resource take `*` wildcards. StringLike compares with
 *            `*` wildcards; a condition key with several values matches when any value does; several keys must all match.
 * - [EVAL]   RAM "Policy evaluation process": an explicit Deny wins, then an Allow that matches, else the request is denied.
 * - The actions each product documents: actions.ts.
 */
import { DOCUMENTED_ACTIONS } from './actions';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface Policy {
  Version: string;
  Statement: Statement[];
}

/** One call as RAM sees it: the action, the resource's ARN, and the condition keys the service sends with it. */
export interface RamRequest {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

const POLICY_KEYS = new Set(['Version', 'Statement']);
const STATEMENT_KEYS = new Set(['Effect', 'Action', 'NotAction', 'Resource', 'Condition']);
/** [SYNTAX] The condition operators this project uses; RAM has more, none of which appear here. */
const CONDITION_OPERATORS = new Set(['StringLike', 'StringEquals']);

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** `*` matches any run of characters, case-sensitively (resources) or not (actions: RAM action names are case-insensitive). */
function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, ignoreCase ? 'i' : '').test(value);
}

/** What RAM would refuse in a policy document, or an element the syntax has not got: each as a sentence. */
export function policyProblems(policy: unknown): string[] {
  const problems: string[] = [];
  const document = policy as Partial<Policy> & Record<string, unknown>;
  for (const key of Object.keys(document)) if (!POLICY_KEYS.has(key)) problems.push(`"${key}" is not a policy element`);
  if (document.Version !== '1') problems.push(`Version must be "1", not ${JSON.stringify(document.Version)}`);
  if (!Array.isArray(document.Statement) || document.Statement.length === 0) return [...problems, 'Statement must be a non-empty list'];
  document.Statement.forEach((statement, index) => {
    const at = `Statement ${index + 1}`;
    for (const key of Object.keys(statement)) if (!STATEMENT_KEYS.has(key)) problems.push(`${at}: "${key}" is not a statement element`);
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') problems.push(`${at}: Effect must be Allow or Deny`);
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) problems.push(`${at}: exactly one of Action and NotAction`);
    if (list(statement.Resource).length === 0) problems.push(`${at}: Resource is missing`);
    for (const action of [...list(statement.Action), ...list(statement.NotAction)]) {
      if (!(action in DOCUMENTED_ACTIONS)) problems.push(`${at}: ${action} is not a documented RAM action`);
    }
    for (const operator of Object.keys(statement.Condition ?? {})) {
      if (!CONDITION_OPERATORS.has(operator)) problems.push(`${at}: condition operator ${operator} is not one this project knows`);
    }
  });
  return problems;
}

function conditionHolds(condition: Statement['Condition'], context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) => {
      const actual = context[key];
      if (actual === undefined) return false;
      return list(values).some((value) => (operator === 'StringLike' ? wildcard(value, actual) : value === actual));
    }),
  );
}

function matches(statement: Statement, request: RamRequest): boolean {
  const actionMatches =
    statement.Action !== undefined
      ? list(statement.Action).some((action) => wildcard(action, request.action, true))
      : !list(statement.NotAction).some((action) => wildcard(action, request.action, true));
  return (
    actionMatches &&
    list(statement.Resource).some((resource) => wildcard(resource, request.resource)) &&
    conditionHolds(statement.Condition, request.context ?? {})
  );
}

/** [EVAL] Whether the policy lets the request through, and which statements allowed it. */
export function evaluate(policy: Policy, request: RamRequest): { allowed: boolean; by: number[] } {
  const matching = policy.Statement.map((statement, index) => ({ statement, index })).filter(({ statement }) => matches(statement, request));
  if (matching.some(({ statement }) => statement.Effect === 'Deny')) return { allowed: false, by: [] };
  const by = matching.filter(({ statement }) => statement.Effect === 'Allow').map(({ index }) => index);
  return { allowed: by.length > 0, by };
}
