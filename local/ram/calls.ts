/**
 * The calls the stand-ins recorded, as the RAM requests the cloud would authorize: which action, on which resource,
 * with which condition keys, made with whose key. Then the two questions the recorded-calls test asks of a policy:
 * which call would it refuse, and which of its grants did no call use.
 *
 * - ICE: every action is `ice:<Action>`, with no resource-level permission (docs/platform-facts.md, "RAM and ROS").
 * - OSS ("Authorization syntax and elements", help.aliyun.com/en/oss/user-guide/authorization-syntax-and-elements):
 *   GetObject and HeadObject are oss:GetObject, PutObject and PostObject oss:PutObject, DeleteObject oss:DeleteObject,
 *   a bucket GET oss:ListObjects (its `prefix` is the oss:Prefix condition key), ?location oss:GetBucketLocation,
 *   ?cors oss:GetBucketCors / oss:PutBucketCors; resources acs:oss:<region>:<account>:<bucket>[/<key>]. A signed URL
 *   or PostObject form is authorized as whoever signed it.
 * - FC 3.0: InvokeFunction, GetFunction, ListTriggers on acs:fc:<region>:<account>:functions/<name>; FC's own
 *   deliveries to an async destination (an MNS queue: mns:SendMessage; a function: fc:InvokeFunction) are made
 *   with the function's role.
 */
import type { ReceivedCall } from '../ice/types';
import type { SignedOssRequest } from '../oss/types';
import { evaluate, type Policy, type RamRequest } from './policy';

export interface Where {
  region: string;
  account: string;
}

export function iceRequests(calls: readonly ReceivedCall[], where: Where): RamRequest[] {
  return calls.filter((call) => call.action).map((call) => ({ action: `ice:${call.action}`, resource: `acs:ice:${where.region}:${where.account}:*` }));
}

/** The requests signed with `accessKeyId`, as RAM requests (a request OSS refused for its signature authorizes nothing). */
export function ossRequests(requests: readonly SignedOssRequest[], accessKeyId: string, where: Where): RamRequest[] {
  return requests
    .filter((request) => request.accessKeyId === accessKeyId && request.bucket && request.code !== 'SignatureDoesNotMatch')
    .map((request) => {
      const bucketArn = `acs:oss:${where.region}:${where.account}:${request.bucket}`;
      if (request.key) {
        const action = { GET: 'oss:GetObject', HEAD: 'oss:GetObject', PUT: 'oss:PutObject', POST: 'oss:PutObject', DELETE: 'oss:DeleteObject' }[request.method];
        return { action: action ?? `oss:${request.method}Object`, resource: `${bucketArn}/${request.key}` };
      }
      if (request.subresource === 'location') return { action: 'oss:GetBucketLocation', resource: bucketArn };
      if (request.subresource === 'cors') return { action: request.method === 'GET' ? 'oss:GetBucketCors' : 'oss:PutBucketCors', resource: bucketArn };
      return { action: 'oss:ListObjects', resource: bucketArn, context: { 'oss:Prefix': request.prefix ?? '' } };
    });
}

export function fcRequests(calls: readonly { action: string; functionName: string; accessKeyId: string }[], accessKeyId: string, where: Where): RamRequest[] {
  return calls
    .filter((call) => call.accessKeyId === accessKeyId)
    .map((call) => ({ action: `fc:${call.action}`, resource: `acs:fc:${where.region}:${where.account}:functions/${call.functionName}` }));
}

/** FC's delivery of an async invocation's outcome to its destination (acs:mns:<region>::/queues/<q>/messages or acs:fc:<region>::functions/<f>). */
export function destinationRequest(destination: string, where: Where): RamRequest {
  const [, service, region, , rest] = /^acs:(mns|fc):([^:]*):([^:]*):(.*)$/.exec(destination) ?? [];
  if (service === 'fc') return { action: 'fc:InvokeFunction', resource: `acs:fc:${region}:${where.account}:${rest}` };
  return { action: 'mns:SendMessage', resource: `acs:mns:${region}:${where.account}:${rest}` };
}

/** A statement's condition values, one per grant they make: `key value` for each value of each key (none: one empty grant). */
function conditionValues(statement: Policy['Statement'][number]): string[] {
  const values = Object.values(statement.Condition ?? {}).flatMap((keys) =>
    Object.entries(keys).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((one) => `${key} ${one}`)),
  );
  return values.length > 0 ? values : [''];
}

/**
 * The calls the policy refuses, and its grants no call used: each (statement, action, resource, condition value) of the
 * policy that no allowed request matched, named "Statement N: action on resource[ when key value]".
 */
export function checkCalls(policy: Policy, requests: readonly RamRequest[]): { refused: RamRequest[]; unused: string[] } {
  const refused: RamRequest[] = [];
  const used = new Set<string>();
  const asList = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  const only = (statement: Policy['Statement'][number], action: string, resource: string, condition: string): Policy => {
    const [key, value] = condition.split(' ');
    const [operator] = Object.keys(statement.Condition ?? {});
    return {
      Version: '1',
      Statement: [{ Effect: statement.Effect, Action: action, Resource: resource, ...(operator ? { Condition: { [operator]: { [key!]: value! } } } : {}) }],
    };
  };
  for (const request of requests) {
    const verdict = evaluate(policy, request);
    if (!verdict.allowed) refused.push(request);
    for (const index of verdict.by) {
      const statement = policy.Statement[index]!;
      for (const resource of asList(statement.Resource))
        for (const condition of conditionValues(statement))
          if (evaluate(only(statement, request.action, resource, condition), request).allowed)
            used.add(`${index} ${request.action.toLowerCase()} ${resource} ${condition}`);
    }
  }
  const unused: string[] = [];
  for (const [index, statement] of policy.Statement.entries()) {
    for (const action of asList(statement.Action))
      for (const resource of asList(statement.Resource))
        for (const condition of conditionValues(statement))
          if (!used.has(`${index} ${action.toLowerCase()} ${resource} ${condition}`))
            unused.push(`Statement ${index + 1}: ${action} on ${resource}${condition ? ` when ${condition}` : ''}`);
  }
  return { refused, unused };
}
