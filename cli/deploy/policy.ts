/**
 * The functions' role policy, built from the grants each adapter declares beside its calls (shared/adapters/*
 * /permissions.ts) with every resource narrowed to this deployment: its account, region, bucket and prefixes, its
 * functions, its destination queues. Only the elements of RAM's policy syntax (Version, Statement; Effect, Action,
 * Resource, Condition: alibabacloud.com help document 93739) and documented actions (local/ram/actions.ts) appear.
 *
 * The statements are tagged with the part of the deployment they belong to: `next-function` (JOB_NEXT_FUNCTION set)
 * and `eventbridge` (oss-submit-eventbridge deployed) are left out of a deployment without them, and become
 * policies of their own under a condition in the ROS template (cli/deploy/template.ts).
 */
import { FC_GRANTS } from '../../shared/adapters/fc/permissions';
import { ICE_GRANTS } from '../../shared/adapters/ice/permissions';
import { OSS_GRANTS } from '../../shared/adapters/oss/permissions';
import type { GrantTarget, ObjectArea, RamGrant } from '../../shared/adapters/ram-grant';
import { RESULTS_PREFIX } from '../../shared/runtime/config';
import { RECORDS_PREFIX } from '../../shared/runtime/tuning';
import { EVENTBRIDGE_PREFIX, FUNCTION_NAMES, QUEUES, UPLOAD_PREFIX } from './deployment';

export interface PolicyStatement {
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: { StringLike: { 'oss:Prefix': string[] } };
}

export interface RamPolicy {
  Version: '1';
  Statement: PolicyStatement[];
}

export type PolicyPart = 'base' | 'next-function' | 'eventbridge';

/** What the resources are narrowed to. Strings may be ROS substitutions (`${AccountId}`) when the template is built. */
export interface PolicyScope {
  account: string;
  region: string;
  bucket: string;
  /** JOB_NEXT_FUNCTION; the template passes its parameter, a deployment without one leaves it out. */
  nextFunction?: string;
}

/**
 * FC sends an async invocation's result to its MNS destination with the function's role: without this the call fails
 * with a generic error (docs/platform-facts.md, "RAM and ROS"). It is FC's call, not an adapter's.
 */
const DESTINATION_ACTION = 'mns:SendMessage';

/** Every grant the adapters declare, in a fixed order. */
const ROLE_GRANTS: readonly RamGrant[] = [...ICE_GRANTS, ...OSS_GRANTS, ...FC_GRANTS];

const AREA_PREFIXES: Record<ObjectArea, string> = {
  uploads: UPLOAD_PREFIX,
  'eventbridge-uploads': EVENTBRIDGE_PREFIX,
  records: RECORDS_PREFIX,
  results: RESULTS_PREFIX,
};

function partOf(target: GrantTarget): PolicyPart {
  if ('function' in target && target.function === 'next') return 'next-function';
  const area = 'objects' in target ? target.objects : 'listing' in target ? target.listing : undefined;
  return area === 'eventbridge-uploads' ? 'eventbridge' : 'base';
}

function resourceOf(target: GrantTarget, scope: PolicyScope): string {
  const bucketArn = `acs:oss:*:${scope.account}:${scope.bucket}`;
  if ('any' in target) return '*';
  if ('objects' in target) return `${bucketArn}/${AREA_PREFIXES[target.objects]}*`;
  if ('listing' in target || 'bucket' in target) return bucketArn;
  const name = target.function === 'next' ? scope.nextFunction : FUNCTION_NAMES[target.function];
  return `acs:fc:${scope.region}:${scope.account}:functions/${name}`;
}

interface TaggedStatement {
  part: PolicyPart;
  statement: PolicyStatement;
}

/**
 * Every statement, tagged: the grants grouped by what they touch (one statement per resource, one per part for the
 * listings, whose prefixes go in the condition), their actions merged, sorted; the destinations' queues last.
 */
export function policyStatements(scope: PolicyScope): TaggedStatement[] {
  const groups = new Map<string, TaggedStatement & { actions: Set<string> }>();
  const add = (part: PolicyPart, key: string, actions: string[], statement: Omit<PolicyStatement, 'Action' | 'Effect'>) => {
    const id = `${part} ${key}`;
    const group = groups.get(id) ?? { part, actions: new Set<string>(), statement: { Effect: 'Allow', Action: [], ...statement } };
    for (const action of actions) group.actions.add(action);
    if (statement.Condition) {
      const prefixes = new Set([...(group.statement.Condition?.StringLike['oss:Prefix'] ?? []), ...statement.Condition.StringLike['oss:Prefix']]);
      group.statement.Condition = { StringLike: { 'oss:Prefix': [...prefixes] } };
    }
    groups.set(id, group);
  };
  for (const grant of ROLE_GRANTS) {
    const part = partOf(grant.on);
    if (part === 'next-function' && scope.nextFunction === undefined) continue;
    const resource = resourceOf(grant.on, scope);
    if ('listing' in grant.on) {
      add(part, `listing ${resource}`, [grant.action], {
        Resource: [resource],
        Condition: { StringLike: { 'oss:Prefix': [`${AREA_PREFIXES[grant.on.listing]}*`] } },
      });
    } else {
      add(part, resource, [grant.action], { Resource: [resource] });
    }
  }
  const queues = Object.values(QUEUES).map((queue) => `acs:mns:${scope.region}:${scope.account}:/queues/${queue}/messages`);
  add('base', 'destinations', [DESTINATION_ACTION], { Resource: queues });
  return [...groups.values()].map(({ part, actions, statement }) => ({ part, statement: { ...statement, Action: [...actions].sort() } }));
}

/** The policy of one deployment: the base statements, and those of the parts it has. */
export function rolePolicy(scope: PolicyScope, parts: { eventBridge: boolean }): RamPolicy {
  const wanted = (part: PolicyPart) =>
    part === 'base' || (part === 'next-function' && scope.nextFunction !== undefined) || (part === 'eventbridge' && parts.eventBridge);
  return {
    Version: '1',
    Statement: policyStatements(scope)
      .filter(({ part }) => wanted(part))
      .map(({ statement }) => statement),
  };
}
