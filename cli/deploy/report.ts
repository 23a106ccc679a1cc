/**
 * What `npm run deploy -- --dry-run` prints (and a deploy prints before it changes anything): the stack's resources,
 * the role's policy, the daily budget and each function as s.yaml renders it. Secrets never appear: bearer tokens
 * only in their sha256: form, any other secret variable as "(set)" or "(unset)".
 */
import { isSecretVariable } from '../../shared/domain/doctor/configuration';
import type { DeploymentPlan } from './plan';
import type { Rendered, RenderedFunction } from './serverless';
import { buildTemplate, type StackParameters } from './template';

type Json = Record<string, unknown>;

/** The template's conditions with these parameters (it uses Fn::Equals and Fn::Not on Ref-s only). */
function conditionValues(parameters: StackParameters): Record<string, boolean> {
  const template = buildTemplate() as Json;
  const evaluate = (node: unknown): unknown => {
    const entry = node as Json;
    if ('Ref' in entry) return parameters[entry.Ref as keyof StackParameters];
    if ('Fn::Not' in entry) return !evaluate((entry['Fn::Not'] as unknown[])[0]);
    if ('Fn::Equals' in entry) {
      const [left, right] = (entry['Fn::Equals'] as unknown[]).map((side) => (typeof side === 'string' ? side : evaluate(side)));
      return left === right;
    }
    throw new TypeError(`a condition this report cannot evaluate: ${JSON.stringify(node)}`);
  };
  return Object.fromEntries(Object.entries(template.Conditions as Json).map(([name, definition]) => [name, Boolean(evaluate(definition))]));
}

function describeResource(id: string, type: string, properties: Json, plan: DeploymentPlan): string {
  switch (type) {
    case 'ALIYUN::RAM::Role': {
      const trust = properties.AssumeRolePolicyDocument as { Statement: { Principal: { Service: string[] } }[] };
      return `${properties.RoleName}, trusted by ${trust.Statement.flatMap((statement) => statement.Principal.Service).join(', ')}`;
    }
    case 'ALIYUN::RAM::ManagedPolicy':
      return `${properties.PolicyName}, attached to the functions' role`;
    case 'ALIYUN::OSS::Bucket':
      return `${plan.parameters.BucketName}, ${properties.AccessControl}, ${plan.parameters.PageOrigin ? `CORS: POST from ${plan.parameters.PageOrigin}` : 'no CORS rule (no page origin)'}`;
    case 'ALIYUN::MNS::Queue':
      return String(properties.QueueName);
    default:
      return id;
  }
}

/** A variable's value as printed: digests and plain settings as they are, any other secret hidden. */
function shownValue(name: string, value: string): string {
  if (!isSecretVariable(name)) return value;
  if (value === '') return '(unset)';
  const digestsOnly = value.split(',').every((entry) => /^sha256:[0-9a-f]{64}$/i.test(entry));
  return name === 'AUTH_TOKENS' && digestsOnly ? value : '(set)';
}

function describeFunction(props: RenderedFunction): string[] {
  const environment = Object.entries(props.environmentVariables ?? {}).map(([name, value]) => `${name}=${shownValue(name, String(value ?? ''))}`);
  const triggers = (props.triggers ?? []).map(
    (trigger) => `${trigger.triggerName} (${trigger.triggerType}${trigger.invocationRole ? `, invocationRole ${trigger.invocationRole}` : ''})`,
  );
  const destinations = Object.entries(props.asyncInvokeConfig?.destinationConfig ?? {}).map(([when, { destination }]) => `${when} ${destination}`);
  return [
    `  ${props.functionName}: ${props.runtime}, ${props.memorySize} MB, ${props.cpu} vCPU, timeout ${props.timeout} s, role ${props.role}`,
    `    environment: ${environment.join(', ')}`,
    `    triggers: ${triggers.join('; ') || 'none'}`,
    ...(destinations.length > 0 ? [`    destinations: ${destinations.join('; ')}`] : []),
  ];
}

export function budgetLine(plan: DeploymentPlan): string {
  if (plan.budget.perDay === 'none') return 'Daily budget: NONE. Every accepted job is paid, with no daily limit (you said --budget none).';
  return plan.budget.chosen === 'default'
    ? `Daily budget: ${plan.budget.perDay} paid jobs a day (the default; --budget N or --budget none to say otherwise).`
    : `Daily budget: ${plan.budget.perDay} paid jobs a day (as you said).`;
}

export function planReport(plan: DeploymentPlan, rendered: Rendered): string {
  const template = buildTemplate() as Json;
  const conditions = conditionValues(plan.parameters);
  const kept: string[] = [];
  const left: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources as Record<string, Json>)) {
    const condition = resource.Condition as string | undefined;
    if (condition && !conditions[condition]) {
      left.push(`${id} (${condition} is false)`);
      continue;
    }
    kept.push(`    ${id.padEnd(20)} ${String(resource.Type).padEnd(28)} ${describeResource(id, String(resource.Type), resource.Properties as Json, plan)}`);
  }
  const parameters = Object.entries(plan.parameters).map(([key, value]) => `${key}=${value || '(empty)'}`);
  return [
    `Stack ${plan.stackName} in ${plan.region} (ROS, deploy/infrastructure.json)`,
    `  parameters: ${parameters.join(', ')}`,
    '  resources:',
    ...kept,
    ...(left.length > 0 ? [`  left out: ${left.join(', ')}`] : []),
    '',
    budgetLine(plan),
    '',
    "The functions' role policy (generated from the adapters' declarations, narrowed to this deployment):",
    JSON.stringify(plan.policy, null, 2),
    '',
    `Functions (s deploy -t ${plan.serverlessTemplate}, as s preview renders it with the stack's outputs):`,
    ...Object.values(rendered).flatMap(describeFunction),
    '',
  ].join('\n');
}
