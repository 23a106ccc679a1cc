/**
 * The ROS resource types this project's template uses, as ROS's resource type reference documents them: each
 * property's type, whether it is required, and its documented constraints; and the attributes Fn::GetAtt may read.
 * The local ROS (server.ts) refuses a template that breaks them, and test/integration/deploy/infrastructure.test.ts
 * holds deploy/infrastructure.json to them.
 *
 * Sources (ROS resource type reference, www.alibabacloud.com/help/en/ros/developer-reference/…):
 * - [ROLE]    aliyun-ram-role: RoleName (String, required, 1-64 characters: letters, digits, ".", "-"), Description
 *             (String, <= 1024), AssumeRolePolicyDocument (Map, required: Version, Statement[{Action, Effect, Principal
 *             {Service, Federated, RAM}, Condition}]), MaxSessionDuration (Integer, 3600-43200), Policies (List of
 *             {PolicyName (1-128: letters, digits, "-"), Description, PolicyDocument (Map, <= 2048 characters)}),
 *             IgnoreExisting, DeletionForce (Boolean), PolicyAttachments (Map). Fn::GetAtt: RoleId, RoleName, Arn.
 * - [POLICY]  aliyun-ram-managedpolicy: PolicyName (String, required, <= 128), Description (<= 1024), PolicyDocument,
 *             PolicyDocumentUnchecked (Map), Users, Groups, Roles (List). Fn::GetAtt: PolicyName. A custom policy
 *             document holds at most 6,144 characters (RAM "Limits").
 * - [BUCKET]  aliyun-oss-bucket: BucketName (String, required, 3-63: lower-case letters, digits, "-", starting and
 *             ending with a letter or digit), AccessControl (private | public-read | public-read-write),
 *             CORSConfiguration ({CORSRule: [{AllowedOrigin, AllowedMethod (* GET PUT POST DELETE HEAD), AllowedHeader,
 *             ExposeHeader (no "*"), MaxAgeSeconds}]}), DeletionForce (Boolean), StorageClass (Standard | IA | Archive),
 *             LifecycleConfiguration, LoggingConfiguration, RefererConfiguration, ServerSideEncryptionConfiguration,
 *             WebsiteConfiguration, Policy, Tags (Map). Fn::GetAtt: Name, DomainName, InternalDomainName.
 * - [QUEUE]   aliyun-mns-queue: QueueName (String, required, <= 256, starting with a letter or digit: letters, digits,
 *             "-"), DelaySeconds (0-604800), MaximumMessageSize (1024-65536), MessageRetentionPeriod (60-604800),
 *             VisibilityTimeout (1-43200), PollingWaitSeconds (0-30), LoggingEnabled (Boolean). Fn::GetAtt: QueueUrl,
 *             ARN.WithSlash.
 */
type Check = (value: unknown) => string | undefined;

interface PropertySpec {
  type: 'String' | 'Integer' | 'Number' | 'Boolean' | 'Map' | 'List';
  required?: boolean;
  check?: Check;
}

export interface ResourceTypeSpec {
  source: string;
  properties: Record<string, PropertySpec>;
  attributes: readonly string[];
}

const REFERENCE = 'https://www.alibabacloud.com/help/en/ros/developer-reference/';
const pattern =
  (regex: RegExp, what: string): Check =>
  (value) =>
    regex.test(String(value)) ? undefined : `must be ${what}`;
const range =
  (min: number, max: number): Check =>
  (value) =>
    Number(value) >= min && Number(value) <= max ? undefined : `must be ${min} to ${max}`;
const maxLength =
  (max: number): Check =>
  (value) =>
    String(value).length <= max ? undefined : `must be at most ${max} characters`;
const oneOf =
  (...values: string[]): Check =>
  (value) =>
    values.includes(String(value)) ? undefined : `must be one of ${values.join(', ')}`;
const jsonAtMost =
  (max: number): Check =>
  (value) => {
    const length = JSON.stringify(value).length;
    return length <= max ? undefined : `is ${length} characters, more than ${max}`;
  };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** [ROLE] The trust policy: Version and Statement, each statement's elements among the documented ones. */
const trustPolicy: Check = (value) => {
  if (!isRecord(value) || typeof value.Version !== 'string' || !Array.isArray(value.Statement)) return 'must be {Version, Statement: [...]}';
  for (const statement of value.Statement) {
    if (!isRecord(statement)) return 'Statement holds a non-object';
    const extra = Object.keys(statement).filter((key) => !['Action', 'Effect', 'Principal', 'Condition'].includes(key));
    if (extra.length > 0) return `Statement has ${extra.join(', ')}, not among Action, Effect, Principal, Condition`;
    if (
      statement.Principal !== undefined &&
      (!isRecord(statement.Principal) || Object.keys(statement.Principal).some((key) => !['Service', 'Federated', 'RAM'].includes(key)))
    )
      return 'Principal takes Service, Federated, RAM';
  }
  return undefined;
};

/** [ROLE] Policies: each {PolicyName, Description?, PolicyDocument}, its document <= 2048 characters. */
const rolePolicies: Check = (value) => {
  for (const policy of asList(value)) {
    if (!isRecord(policy)) return 'holds a non-object';
    const extra = Object.keys(policy).filter((key) => !['PolicyName', 'Description', 'PolicyDocument'].includes(key));
    if (extra.length > 0) return `a policy has ${extra.join(', ')}`;
    const name = pattern(/^[A-Za-z0-9-]{1,128}$/, '1-128 letters, digits or "-"')(policy.PolicyName);
    if (name) return `PolicyName ${name}`;
    if (!isRecord(policy.PolicyDocument)) return 'PolicyDocument is required';
    const length = jsonAtMost(2048)(policy.PolicyDocument);
    if (length) return `PolicyDocument ${length}`;
  }
  return undefined;
};

/** [BUCKET] CORSConfiguration: {CORSRule: [...]}, each rule's fields and values as documented. */
const corsConfiguration: Check = (value) => {
  if (!isRecord(value) || Object.keys(value).some((key) => key !== 'CORSRule')) return 'must be {CORSRule: [...]}';
  for (const rule of asList(value.CORSRule ?? [])) {
    if (!isRecord(rule)) return 'a CORSRule is not an object';
    const extra = Object.keys(rule).filter((key) => !['AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds'].includes(key));
    if (extra.length > 0) return `a CORSRule has ${extra.join(', ')}`;
    const methods = asList(rule.AllowedMethod ?? []).filter((method) => !['*', 'GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(String(method)));
    if (methods.length > 0) return `AllowedMethod ${methods.join(', ')} is not * GET PUT POST DELETE HEAD`;
    if (asList(rule.ExposeHeader ?? []).includes('*')) return 'ExposeHeader may not be *';
  }
  return undefined;
};

export const RESOURCE_TYPES: Readonly<Record<string, ResourceTypeSpec>> = {
  'ALIYUN::RAM::Role': {
    source: `${REFERENCE}aliyun-ram-role`,
    properties: {
      RoleName: { type: 'String', required: true, check: pattern(/^[A-Za-z0-9.-]{1,64}$/, '1-64 letters, digits, "." or "-"') },
      Description: { type: 'String', check: maxLength(1024) },
      AssumeRolePolicyDocument: { type: 'Map', required: true, check: trustPolicy },
      MaxSessionDuration: { type: 'Integer', check: range(3600, 43200) },
      Policies: { type: 'List', check: rolePolicies },
      IgnoreExisting: { type: 'Boolean' },
      DeletionForce: { type: 'Boolean' },
      PolicyAttachments: { type: 'Map' },
    },
    attributes: ['RoleId', 'RoleName', 'Arn'],
  },
  'ALIYUN::RAM::ManagedPolicy': {
    source: `${REFERENCE}aliyun-ram-managedpolicy`,
    properties: {
      PolicyName: { type: 'String', required: true, check: maxLength(128) },
      Description: { type: 'String', check: maxLength(1024) },
      PolicyDocument: { type: 'Map', check: jsonAtMost(6144) },
      PolicyDocumentUnchecked: { type: 'Map' },
      Users: { type: 'List' },
      Groups: { type: 'List' },
      Roles: { type: 'List' },
    },
    attributes: ['PolicyName'],
  },
  'ALIYUN::OSS::Bucket': {
    source: `${REFERENCE}aliyun-oss-bucket`,
    properties: {
      BucketName: { type: 'String', required: true, check: pattern(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, '3-63 lower-case letters, digits or "-"') },
      AccessControl: { type: 'String', check: oneOf('private', 'public-read', 'public-read-write') },
      CORSConfiguration: { type: 'Map', check: corsConfiguration },
      DeletionForce: { type: 'Boolean' },
      StorageClass: { type: 'String', check: oneOf('Standard', 'IA', 'Archive') },
      LifecycleConfiguration: { type: 'Map' },
      LoggingConfiguration: { type: 'Map' },
      RefererConfiguration: { type: 'Map' },
      ServerSideEncryptionConfiguration: { type: 'Map' },
      WebsiteConfiguration: { type: 'Map' },
      Policy: { type: 'Map' },
      Tags: { type: 'Map' },
    },
    attributes: ['Name', 'DomainName', 'InternalDomainName'],
  },
  'ALIYUN::MNS::Queue': {
    source: `${REFERENCE}aliyun-mns-queue`,
    properties: {
      QueueName: {
        type: 'String',
        required: true,
        check: pattern(/^[A-Za-z0-9][A-Za-z0-9-]{0,255}$/, 'up to 256 letters, digits or "-", starting with a letter or digit'),
      },
      DelaySeconds: { type: 'Integer', check: range(0, 604800) },
      MaximumMessageSize: { type: 'Integer', check: range(1024, 65536) },
      MessageRetentionPeriod: { type: 'Integer', check: range(60, 604800) },
      VisibilityTimeout: { type: 'Integer', check: range(1, 43200) },
      PollingWaitSeconds: { type: 'Integer', check: range(0, 30) },
      LoggingEnabled: { type: 'Boolean' },
    },
    attributes: ['QueueUrl', 'ARN.WithSlash'],
  },
};

/** An intrinsic function or reference: its value is known only once the stack's parameters are. */
export function isIntrinsic(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length === 1 && /^(Ref|Fn::)/.test(Object.keys(value)[0]!);
}

function typeProblem(spec: PropertySpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'String':
      return typeof value === 'string' ? undefined : 'must be a String';
    case 'Integer':
      return Number.isInteger(typeof value === 'string' ? Number(value) : value) ? undefined : 'must be an Integer';
    case 'Number':
      return Number.isFinite(typeof value === 'string' ? Number(value) : value) ? undefined : 'must be a Number';
    case 'Boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : 'must be a Boolean';
    case 'Map':
      return isRecord(value) ? undefined : 'must be a Map';
    case 'List':
      return Array.isArray(value) ? undefined : 'must be a List';
  }
}

/**
 * What ROS would refuse in one resource's properties, each as "<logical id>.<property> <problem>". Values that are
 * still intrinsic functions (`resolved` false) are checked once resolved; a property holding one is not judged yet.
 */
export function resourceProblems(logicalId: string, type: string, properties: Record<string, unknown>, resolved: boolean): string[] {
  const spec = RESOURCE_TYPES[type];
  if (!spec) return [`${logicalId}: the resource type ${type} is not one ROS has (or this stand-in knows)`];
  const problems: string[] = [];
  for (const [name, property] of Object.entries(spec.properties)) {
    if (property.required && properties[name] === undefined) problems.push(`${logicalId}.${name} is required`);
  }
  for (const [name, value] of Object.entries(properties)) {
    const property = spec.properties[name];
    if (!property) {
      problems.push(`${logicalId}.${name} is not a property of ${type}`);
      continue;
    }
    if (!resolved && (isIntrinsic(value) || JSON.stringify(value).includes('"Fn::') || JSON.stringify(value).includes('"Ref"'))) continue;
    const problem = typeProblem(property, value) ?? property.check?.(value);
    if (problem) problems.push(`${logicalId}.${name} ${problem}`);
  }
  return problems;
}
