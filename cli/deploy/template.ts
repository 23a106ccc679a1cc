/**
 * deploy/infrastructure.json, the ROS template of everything the functions need before `s deploy`: their role and its
 * policy (cli/deploy/policy.ts), the upload and records bucket, the async destinations' MNS queues and the OSS
 * trigger's role. Written by `npm run deploy:template`; a test keeps the file equal to what this builds and checks
 * every resource against ROS's resource type reference (local/ros/resource-types.ts).
 *
 * ROS template syntax (ROSTemplateFormatVersion 2015-09-01, Parameters, Conditions, Resources with a Condition,
 * Outputs; Ref, Fn::Sub, Fn::GetAtt, Fn::If, Fn::Equals, Fn::Not, ALIYUN::NoValue): the ROS "Template structure" and
 * "Functions" pages, help.aliyun.com/zh/ros/user-guide/ (docs/platform-facts.md, "RAM and ROS").
 */
import { policyStatements, type PolicyPart, type PolicyStatement } from './policy';
import { FUNCTION_NAMES, ICE_REGIONS, OSS_TRIGGER_ROLE_NAME, QUEUES, ROLE_NAME } from './deployment';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The template's parameters, as the deploy command passes them (CreateStack / UpdateStack Parameters.N). */
export interface StackParameters {
  AccountId: string;
  Region: string;
  BucketName: string;
  /** The page's origin (https://…); empty: no CORS rule. */
  PageOrigin: string;
  /** JOB_NEXT_FUNCTION; empty: none, and no permission on any function. */
  NextFunctionName: string;
  /** "true" when oss-submit-eventbridge is deployed. */
  EventBridgeUploads: 'true' | 'false';
}

/** What the stack answers (GetStack Outputs) and s.yaml reads (through the YIKE_* the deploy command exports). */
export const STACK_OUTPUTS = ['RoleArn', 'BucketName', 'OssTriggerRoleArn', 'SubmittedQueueArn', 'FailedQueueArn'] as const;
export type StackOutputs = Record<(typeof STACK_OUTPUTS)[number], string>;

/** A parameter inside an Fn::Sub string. */
const parameter = (name: keyof StackParameters): string => `\${${name}}`;

/** Fn::Sub only where a string names a parameter. */
const sub = (text: string): Json => (text.includes('${') ? { 'Fn::Sub': text } : text);

function rosStatement(statement: PolicyStatement): Json {
  return {
    Effect: statement.Effect,
    Action: statement.Action,
    Resource: statement.Resource.map(sub),
    ...(statement.Condition ? { Condition: statement.Condition } : {}),
  };
}

const POLICY_CONDITIONS: Record<Exclude<PolicyPart, 'base'>, string> = { 'next-function': 'HasNextFunction', eventbridge: 'HasEventBridgeUploads' };
const POLICY_NAMES: Record<PolicyPart, { resource: string; name: string; description: string }> = {
  base: { resource: 'FunctionsPolicy', name: 'yike-fc-policy', description: 'What the yike-fc functions call, narrowed to this deployment' },
  'next-function': { resource: 'NextFunctionPolicy', name: 'yike-fc-next-function-policy', description: 'Invoking JOB_NEXT_FUNCTION' },
  eventbridge: { resource: 'EventBridgePolicy', name: 'yike-fc-eventbridge-policy', description: "oss-submit-eventbridge's uploads" },
};

function trustPolicy(service: string): Json {
  return { Version: '1', Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: [service] } }] };
}

export function buildTemplate(): Json {
  const statements = policyStatements({
    account: parameter('AccountId'),
    region: parameter('Region'),
    bucket: parameter('BucketName'),
    nextFunction: parameter('NextFunctionName'),
  });
  const policies: Record<string, Json> = {};
  for (const part of ['base', 'next-function', 'eventbridge'] as const) {
    const { resource, name, description } = POLICY_NAMES[part];
    policies[resource] = {
      Type: 'ALIYUN::RAM::ManagedPolicy',
      ...(part === 'base' ? {} : { Condition: POLICY_CONDITIONS[part] }),
      Properties: {
        PolicyName: name,
        Description: description,
        PolicyDocument: { Version: '1', Statement: statements.filter((tagged) => tagged.part === part).map(({ statement }) => rosStatement(statement)) },
        Roles: [{ 'Fn::GetAtt': ['FunctionsRole', 'RoleName'] }],
      },
    };
  }
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Description: 'yike-fc: what the functions need before s deploy (npm run deploy creates and updates it)',
    Parameters: {
      AccountId: { Type: 'String', Description: 'Your account id (the role ARNs and the policy name it)', AllowedPattern: '^[0-9]{5,32}$' },
      Region: { Type: 'String', Description: "ICE's region: the stack, the bucket and the functions are all in it", AllowedValues: [...ICE_REGIONS] },
      BucketName: { Type: 'String', Description: 'The upload and records bucket (created, private)', AllowedPattern: '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$' },
      PageOrigin: {
        Type: 'String',
        Description: "The page's origin (its custom domain): the bucket's CORS rule lets it POST uploads. Empty: no rule",
        Default: '',
        AllowedPattern: '^(https://[a-z0-9.-]+(:[0-9]{1,5})?)?$',
      },
      NextFunctionName: {
        Type: 'String',
        Description: 'JOB_NEXT_FUNCTION: the role may invoke it. Empty: none',
        Default: '',
        AllowedPattern: '^([A-Za-z_][A-Za-z0-9_-]{0,127})?$',
      },
      EventBridgeUploads: { Type: 'String', Description: 'Whether oss-submit-eventbridge is deployed', Default: 'false', AllowedValues: ['false', 'true'] },
    },
    Conditions: {
      HasPageOrigin: { 'Fn::Not': [{ 'Fn::Equals': ['', { Ref: 'PageOrigin' }] }] },
      HasNextFunction: { 'Fn::Not': [{ 'Fn::Equals': ['', { Ref: 'NextFunctionName' }] }] },
      HasEventBridgeUploads: { 'Fn::Equals': ['true', { Ref: 'EventBridgeUploads' }] },
    },
    Resources: {
      FunctionsRole: {
        Type: 'ALIYUN::RAM::Role',
        Properties: {
          RoleName: ROLE_NAME,
          Description: 'The yike-fc functions (FC 3.0) run as this role',
          AssumeRolePolicyDocument: trustPolicy('fc.aliyuncs.com'),
        },
      },
      ...policies,
      UploadBucket: {
        Type: 'ALIYUN::OSS::Bucket',
        Properties: {
          BucketName: { Ref: 'BucketName' },
          AccessControl: 'private',
          // A teardown never deletes objects: npm run deploy -- --remove keeps the bucket unless asked (docs/first-deploy.md).
          DeletionForce: false,
          CORSConfiguration: {
            'Fn::If': [
              'HasPageOrigin',
              { CORSRule: [{ AllowedOrigin: [{ Ref: 'PageOrigin' }], AllowedMethod: ['POST'], AllowedHeader: ['*'], MaxAgeSeconds: 600 }] },
              { Ref: 'ALIYUN::NoValue' },
            ],
          },
        },
      },
      SubmittedQueue: { Type: 'ALIYUN::MNS::Queue', Properties: { QueueName: QUEUES.submitted, MessageRetentionPeriod: 604800 } },
      FailedQueue: { Type: 'ALIYUN::MNS::Queue', Properties: { QueueName: QUEUES.failed, MessageRetentionPeriod: 604800 } },
      OssTriggerRole: {
        Type: 'ALIYUN::RAM::Role',
        Properties: {
          RoleName: OSS_TRIGGER_ROLE_NAME,
          Description: "OSS invokes oss-submit with this role (the upload trigger's invocationRole)",
          AssumeRolePolicyDocument: trustPolicy('oss.aliyuncs.com'),
          Policies: [
            {
              PolicyName: 'yike-oss-trigger-invoke',
              PolicyDocument: {
                Version: '1',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: ['fc:InvokeFunction'],
                    Resource: [sub(`acs:fc:\${Region}:\${AccountId}:functions/${FUNCTION_NAMES['oss-submit']}`)],
                  },
                ],
              },
            },
          ],
        },
      },
    },
    Outputs: {
      RoleArn: { Description: "The functions' role (s.yaml role)", Value: { 'Fn::GetAtt': ['FunctionsRole', 'Arn'] } },
      BucketName: { Description: 'The upload and records bucket', Value: { 'Fn::GetAtt': ['UploadBucket', 'Name'] } },
      OssTriggerRoleArn: { Description: "The upload trigger's invocationRole", Value: { 'Fn::GetAtt': ['OssTriggerRole', 'Arn'] } },
      SubmittedQueueArn: { Description: "oss-submit's onSuccess destination", Value: { 'Fn::GetAtt': ['SubmittedQueue', 'ARN.WithSlash'] } },
      FailedQueueArn: { Description: 'The onFailure destination', Value: { 'Fn::GetAtt': ['FailedQueue', 'ARN.WithSlash'] } },
    },
  };
}

/** The file's text: two-space JSON and a final newline. */
export function templateText(): string {
  return `${JSON.stringify(buildTemplate(), null, 2)}\n`;
}
