/**
 * A ROS template checked and resolved as ROS does before it creates anything: its sections, parameters, conditions,
 * resources and outputs; then, with a stack's parameter values, every Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Equals,
 * Fn::Not and Fn::Join replaced, ALIYUN::NoValue removed, conditional resources kept or dropped, and each resource's
 * resolved properties checked against its type (resource-types.ts).
 *
 * Sources:
 * - [CHECKS]  ROS "Reasons for template verification failure" (www.alibabacloud.com/help/doc-detail/28930.htm): valid
 *             JSON, ROSTemplateFormatVersion 2015-09-01, no function in Parameters, a Default that meets the
 *             parameter's own constraints, resources with a string Type among the supported ones and only Type,
 *             Properties, Metadata, DependsOn, DeletionPolicy, Description (and Condition), outputs with a Value, at most
 *             512 KB, no other top-level section.
 * - [PARAMS]  ROS "Parameters" (help.aliyun.com/zh/ros/user-guide/parameters): Type String | Number |
 *             CommaDelimitedList | Json | Boolean; AllowedValues, AllowedPattern, MinLength, MaxLength, MinValue,
 *             MaxValue, Default, Description, Label, NoEcho, ConstraintDescription.
 * - [FUNCS]   ROS "Functions" and "Pseudo parameters" (help.aliyun.com/zh/ros/user-guide/functions): Ref, Fn::GetAtt,
 *             Fn::Sub (${Name} of a parameter, a pseudo parameter or Resource.Attribute), Fn::Join, Fn::If, Fn::Equals,
 *             Fn::Not; ALIYUN::Region, ALIYUN::AccountId, ALIYUN::StackName, ALIYUN::StackId, ALIYUN::NoValue.
 * Problems are sentences; the server answers them with the codes ROS uses (server.ts).
 */
import { isIntrinsic, RESOURCE_TYPES, resourceProblems } from './resource-types';

type Json = unknown;
type Template = Record<string, Json>;

export const MAX_TEMPLATE_BYTES = 524_288;
const SECTIONS = new Set(['ROSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Mappings', 'Conditions', 'Resources', 'Outputs', 'Rules']);
const RESOURCE_KEYS = new Set(['Type', 'Properties', 'Metadata', 'DependsOn', 'DeletionPolicy', 'Description', 'Condition']);
const PARAMETER_KEYS = new Set([
  'Type',
  'Default',
  'AllowedValues',
  'AllowedPattern',
  'MinLength',
  'MaxLength',
  'MinValue',
  'MaxValue',
  'Description',
  'Label',
  'NoEcho',
  'ConstraintDescription',
]);
const PARAMETER_TYPES = new Set(['String', 'Number', 'CommaDelimitedList', 'Json', 'Boolean']);
const NO_VALUE = Symbol('ALIYUN::NoValue');

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const section = (template: Template, name: string): Record<string, Record<string, unknown>> => (isRecord(template[name]) ? template[name] : {}) as never;

/** A parameter value's problem against the parameter's declared constraints [PARAMS]. */
export function parameterProblem(name: string, declared: Record<string, unknown>, value: string): string | undefined {
  const allowed = declared.AllowedValues as unknown[] | undefined;
  if (allowed && !allowed.map(String).includes(value)) return `Parameter ${name}: "${value}" is not one of ${allowed.join(', ')}`;
  if (typeof declared.AllowedPattern === 'string' && !new RegExp(declared.AllowedPattern).test(value))
    return `Parameter ${name}: "${value}" does not match ${declared.AllowedPattern}`;
  if (typeof declared.MaxLength === 'number' && value.length > declared.MaxLength) return `Parameter ${name}: longer than ${declared.MaxLength}`;
  if (typeof declared.MinLength === 'number' && value.length < declared.MinLength) return `Parameter ${name}: shorter than ${declared.MinLength}`;
  if (declared.Type === 'Number' && !Number.isFinite(Number(value))) return `Parameter ${name}: "${value}" is not a Number`;
  if (declared.Type === 'Boolean' && !['true', 'false'].includes(value.toLowerCase())) return `Parameter ${name}: "${value}" is not a Boolean`;
  return undefined;
}

/** [CHECKS] What ROS refuses in the template itself, before any parameter is known. */
export function templateProblems(template: unknown, bytes: number): string[] {
  if (bytes > MAX_TEMPLATE_BYTES) return [`the template is ${bytes} bytes, more than ${MAX_TEMPLATE_BYTES}`];
  if (!isRecord(template)) return ['the template is not a JSON object'];
  const problems: string[] = [];
  for (const key of Object.keys(template)) if (!SECTIONS.has(key)) problems.push(`${key} is not a template section`);
  if (template.ROSTemplateFormatVersion !== '2015-09-01') problems.push('ROSTemplateFormatVersion must be 2015-09-01');
  for (const [name, declared] of Object.entries(section(template, 'Parameters'))) {
    for (const key of Object.keys(declared)) if (!PARAMETER_KEYS.has(key)) problems.push(`Parameter ${name}: ${key} is not a parameter property`);
    if (!PARAMETER_TYPES.has(String(declared.Type))) problems.push(`Parameter ${name}: Type ${String(declared.Type)} is not a parameter type`);
    if (JSON.stringify(declared).includes('"Fn::') || JSON.stringify(declared).includes('"Ref"'))
      problems.push(`Parameter ${name}: functions are not allowed here`);
    if (declared.Default !== undefined) {
      const problem = parameterProblem(name, declared, String(declared.Default));
      if (problem) problems.push(`${problem} (its Default)`);
    }
  }
  const conditions = section(template, 'Conditions');
  const resources = section(template, 'Resources');
  for (const [id, resource] of Object.entries(resources)) {
    if (id.includes('/')) problems.push(`Resource ${id}: a logical id cannot contain "/"`);
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) problems.push(`Resource ${id}: ${key} is not allowed in a resource`);
    if (typeof resource.Type !== 'string') problems.push(`Resource ${id}: Type must be a string`);
    else problems.push(...resourceProblems(id, resource.Type, (resource.Properties ?? {}) as Record<string, unknown>, false));
    if (resource.Condition !== undefined && !(String(resource.Condition) in conditions))
      problems.push(`Resource ${id}: no condition ${String(resource.Condition)}`);
  }
  for (const [name, output] of Object.entries(section(template, 'Outputs'))) {
    if (output.Value === undefined) problems.push(`Output ${name}: Value is required`);
  }
  problems.push(...referenceProblems(template, resources));
  return problems;
}

/** Every Fn::GetAtt names a resource and one of its type's attributes; every Ref a parameter, pseudo parameter or resource. */
function referenceProblems(template: Template, resources: Record<string, Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const parameters = section(template, 'Parameters');
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (!isRecord(value)) return;
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = value['Fn::GetAtt'] as [string, string];
      const type = resources[id]?.Type as string | undefined;
      if (!type) problems.push(`Fn::GetAtt names no resource ${id}`);
      else if (!RESOURCE_TYPES[type]?.attributes.includes(attribute)) problems.push(`Fn::GetAtt: ${type} has no attribute ${attribute}`);
    }
    if ('Ref' in value) {
      const name = String(value.Ref);
      if (!name.startsWith('ALIYUN::') && !(name in parameters) && !(name in resources)) problems.push(`Ref names nothing: ${name}`);
    }
    for (const item of Object.values(value)) walk(item);
  };
  walk(template.Resources);
  walk(template.Outputs);
  return problems;
}

export interface StackContext {
  region: string;
  accountId: string;
  stackName: string;
  stackId: string;
}

export interface ResolvedStack {
  /** The resources the conditions keep, their properties resolved. */
  resources: Record<string, { type: string; properties: Record<string, unknown>; attributes: Record<string, string> }>;
  outputs: { OutputKey: string; OutputValue: string; Description?: string }[];
  problems: string[];
}

/** Each resource type's attribute values, as the cloud would answer them for what the stack creates. */
function attributesOf(type: string, properties: Record<string, unknown>, context: StackContext): Record<string, string> {
  switch (type) {
    case 'ALIYUN::RAM::Role':
      return {
        RoleName: String(properties.RoleName),
        Arn: `acs:ram::${context.accountId}:role/${String(properties.RoleName).toLowerCase()}`,
        RoleId: '3'.repeat(17),
      };
    case 'ALIYUN::RAM::ManagedPolicy':
      return { PolicyName: String(properties.PolicyName) };
    case 'ALIYUN::OSS::Bucket':
      return {
        Name: String(properties.BucketName),
        DomainName: `${String(properties.BucketName)}.oss-${context.region}.aliyuncs.com`,
        InternalDomainName: `${String(properties.BucketName)}.oss-${context.region}-internal.aliyuncs.com`,
      };
    case 'ALIYUN::MNS::Queue':
      return {
        QueueUrl: `https://${context.accountId}.mns.${context.region}.aliyuncs.com/queues/${String(properties.QueueName)}`,
        'ARN.WithSlash': `acs:mns:${context.region}:${context.accountId}:/queues/${String(properties.QueueName)}`,
      };
    default:
      return {};
  }
}

/** [FUNCS] The template with these parameter values (already checked), as the stack it makes. */
export function resolveStack(template: Template, parameters: Record<string, string>, context: StackContext): ResolvedStack {
  const pseudo: Record<string, string> = {
    'ALIYUN::Region': context.region,
    'ALIYUN::AccountId': context.accountId,
    'ALIYUN::StackName': context.stackName,
    'ALIYUN::StackId': context.stackId,
  };
  const conditionDefinitions = section(template, 'Conditions') as Record<string, unknown>;
  const conditionValues = new Map<string, boolean>();
  const resources: ResolvedStack['resources'] = {};
  const problems: string[] = [];

  const variable = (name: string): unknown => {
    if (name in parameters) return parameters[name];
    if (name in pseudo) return pseudo[name];
    const [id, ...attribute] = name.split('.');
    const resource = resources[id!];
    if (resource) return resource.attributes[attribute.join('.')];
    throw new Error(`cannot resolve ${name}`);
  };
  const condition = (name: string): boolean => {
    if (!conditionValues.has(name)) conditionValues.set(name, Boolean(resolve(conditionDefinitions[name])));
    return conditionValues.get(name)!;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((item) => item !== NO_VALUE);
    if (!isRecord(value)) return value;
    if (isIntrinsic(value)) {
      const [name, argument] = Object.entries(value)[0]!;
      switch (name) {
        case 'Ref':
          return argument === 'ALIYUN::NoValue' ? NO_VALUE : variable(String(argument));
        case 'Fn::GetAtt':
          return variable((argument as string[]).join('.'));
        case 'Fn::Sub':
          return String(argument).replace(/\$\{([^}]+)\}/g, (_match, inner: string) => String(variable(inner)));
        case 'Fn::Join': {
          const [separator, items] = argument as [string, unknown[]];
          return (resolve(items) as unknown[]).join(separator);
        }
        case 'Fn::Equals': {
          const [left, right] = resolve(argument) as unknown[];
          return String(left) === String(right);
        }
        case 'Fn::Not':
          return !(resolve(argument) as unknown[])[0];
        case 'Fn::If': {
          const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
          return resolve(condition(name) ? whenTrue : whenFalse);
        }
        default:
          throw new Error(`${name} is not a function this stand-in resolves`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const resolved = resolve(item);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  };

  try {
    for (const [id, resource] of Object.entries(section(template, 'Resources'))) {
      if (resource.Condition !== undefined && !condition(String(resource.Condition))) continue;
      const type = String(resource.Type);
      const properties = resolve(resource.Properties ?? {}) as Record<string, unknown>;
      problems.push(...resourceProblems(id, type, properties, true));
      resources[id] = { type, properties, attributes: attributesOf(type, properties, context) };
    }
    const outputs = Object.entries(section(template, 'Outputs')).map(([key, output]) => ({
      OutputKey: key,
      OutputValue: String(resolve(output.Value)),
      ...(typeof output.Description === 'string' ? { Description: output.Description } : {}),
    }));
    return { resources, outputs, problems };
  } catch (error) {
    return { resources, outputs: [], problems: [...problems, (error as Error).message] };
  }
}
