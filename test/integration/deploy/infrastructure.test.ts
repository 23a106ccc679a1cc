import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_OUTPUTS, templateText, type StackParameters } from '../../../cli/deploy/template';
import { policyProblems } from '../../../local/ram/policy';
import { RESOURCE_TYPES } from '../../../local/ros/resource-types';
import { resolveStack, templateProblems } from '../../../local/ros/template';

/**
 * deploy/infrastructure.json: current with the code that builds it, within ROS's resource type reference, and what it
 * makes of a deployment's parameters (resolved as the local ROS resolves a stack): the role and its trust, every
 * statement of the generated policy, the bucket's CORS rule, the queues, and the outputs s.yaml reads.
 */
const ROOT = join(__dirname, '..', '..', '..');
const FILE = join(ROOT, 'deploy', 'infrastructure.json');
const CONTEXT = { region: 'cn-shanghai', accountId: '123456789012', stackName: 'yike-fc', stackId: 'stack-1' };
const PARAMETERS: StackParameters = {
  AccountId: '123456789012',
  Region: 'cn-shanghai',
  BucketName: 'my-yike-uploads',
  PageOrigin: 'https://yike.example.com',
  NextFunctionName: '',
  EventBridgeUploads: 'false',
};

const template = () => JSON.parse(readFileSync(FILE, 'utf8'));
const resolve = (overrides: Partial<StackParameters> = {}) => resolveStack(template(), { ...PARAMETERS, ...overrides }, CONTEXT);

describe('deploy/infrastructure.json (the ROS template of the deployment)', () => {
  it('is what cli/deploy/template.ts builds (npm run deploy:template writes it)', () => {
    expect(readFileSync(FILE, 'utf8')).toBe(templateText());
  });

  it("meets ROS's template checks and each resource type's documented properties, each type naming its reference page", () => {
    // Act
    const text = readFileSync(FILE, 'utf8');
    const problems = templateProblems(JSON.parse(text), Buffer.byteLength(text));
    const types = [...new Set(Object.values(template().Resources as Record<string, { Type: string }>).map((resource) => resource.Type))].sort();

    // Assert
    expect(problems).toEqual([]);
    expect(types.map((type) => [type, RESOURCE_TYPES[type]?.source])).toEqual([
      ['ALIYUN::MNS::Queue', 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-mns-queue'],
      ['ALIYUN::OSS::Bucket', 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-oss-bucket'],
      ['ALIYUN::RAM::ManagedPolicy', 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ram-managedpolicy'],
      ['ALIYUN::RAM::Role', 'https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ram-role'],
    ]);
  });

  it("resolves, with a deployment's parameters, to resources that all meet their type's properties", () => {
    expect(resolve().problems).toEqual([]);
    expect(resolve({ NextFunctionName: 'my-next-step', EventBridgeUploads: 'true', PageOrigin: '' }).problems).toEqual([]);
  });

  it('refuses what ROS refuses: a property its type has not got, a name it does not allow', () => {
    // Arrange
    const broken = template();
    broken.Resources.FunctionsRole.Properties.Sid = 'x';
    broken.Resources.SubmittedQueue.Properties.QueueName = '-starts-with-a-dash';

    // Act
    const problems = templateProblems(broken, 1);

    // Assert
    expect(problems).toEqual([
      'FunctionsRole.Sid is not a property of ALIYUN::RAM::Role',
      'SubmittedQueue.QueueName must be up to 256 letters, digits or "-", starting with a letter or digit',
    ]);
  });

  it('takes the account, region, bucket and page origin (and the optional parts) as parameters', () => {
    expect(Object.keys(template().Parameters)).toEqual(['AccountId', 'Region', 'BucketName', 'PageOrigin', 'NextFunctionName', 'EventBridgeUploads']);
  });

  it("makes the functions' role, trusted by fc.aliyuncs.com only", () => {
    const role = resolve().resources.FunctionsRole!;
    expect(role.properties).toEqual({
      RoleName: 'yike-fc-role',
      Description: 'The yike-fc functions (FC 3.0) run as this role',
      AssumeRolePolicyDocument: { Version: '1', Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }] },
    });
  });

  it('attaches the generated policy to it: every statement, narrowed to the bucket and account, only documented elements and actions', () => {
    // Act
    const policy = resolve().resources.FunctionsPolicy!.properties;
    const bucket = 'acs:oss:*:123456789012:my-yike-uploads';

    // Assert
    expect(policy.Roles).toEqual(['yike-fc-role']);
    expect(policyProblems(policy.PolicyDocument)).toEqual([]);
    expect(policy.PolicyDocument).toEqual({
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'ice:BatchGetYikeAIAppJob',
            'ice:GetMediaInfo',
            'ice:GetYikeAIAppJob',
            'ice:GetYikeAssetMediaInfo',
            'ice:PrecheckYikeAIAppJob',
            'ice:RegisterMediaInfo',
            'ice:RegisterYikeAssetMediaInfo',
            'ice:SubmitYikeAIAppJob',
          ],
          Resource: ['*'],
        },
        // Erasure deletes uploads and what the job left under .yike-results/, and lists a job's copy folder there.
        { Effect: 'Allow', Action: ['oss:DeleteObject', 'oss:GetObject', 'oss:PutObject'], Resource: [`${bucket}/uploads/*`] },
        { Effect: 'Allow', Action: ['oss:DeleteObject', 'oss:GetObject', 'oss:PutObject'], Resource: [`${bucket}/.yike-jobs/*`] },
        {
          Effect: 'Allow',
          Action: ['oss:ListObjects'],
          Resource: [bucket],
          Condition: { StringLike: { 'oss:Prefix': ['.yike-jobs/*', 'uploads/*', '.yike-results/*'] } },
        },
        { Effect: 'Allow', Action: ['oss:DeleteObject', 'oss:GetObject', 'oss:PutObject'], Resource: [`${bucket}/.yike-results/*`] },
        { Effect: 'Allow', Action: ['oss:GetBucketLocation'], Resource: [bucket] },
        // The watcher schedules its own next round (and the doctor's delay probe) by invoking itself, and only itself.
        { Effect: 'Allow', Action: ['fc:InvokeFunction'], Resource: ['acs:fc:cn-shanghai:123456789012:functions/yike-job-watcher'] },
        {
          Effect: 'Allow',
          Action: ['mns:SendMessage'],
          Resource: [
            'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-submitted/messages',
            'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-failed/messages',
          ],
        },
      ],
    });
    const text = JSON.stringify(policy.PolicyDocument);
    expect({ sid: text.includes('"Sid"'), headObject: text.includes('oss:HeadObject') }).toEqual({ sid: false, headObject: false });
  });

  it('lets the role invoke (and read) the next function only when one is named, and read (and erase) eventbridge-uploads/ only with oss-submit-eventbridge', () => {
    // Act
    const without = resolve();
    const withBoth = resolve({ NextFunctionName: 'my-next-step', EventBridgeUploads: 'true' });

    // Assert
    expect(Object.keys(without.resources)).not.toContain('NextFunctionPolicy');
    expect(Object.keys(without.resources)).not.toContain('EventBridgePolicy');
    expect(withBoth.resources.NextFunctionPolicy!.properties.PolicyDocument).toEqual({
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: ['fc:GetFunction', 'fc:InvokeFunction'], Resource: ['acs:fc:cn-shanghai:123456789012:functions/my-next-step'] }],
    });
    expect(withBoth.resources.EventBridgePolicy!.properties.PolicyDocument).toEqual({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['oss:DeleteObject', 'oss:GetObject'], Resource: ['acs:oss:*:123456789012:my-yike-uploads/eventbridge-uploads/*'] },
        {
          Effect: 'Allow',
          Action: ['oss:ListObjects'],
          Resource: ['acs:oss:*:123456789012:my-yike-uploads'],
          Condition: { StringLike: { 'oss:Prefix': ['eventbridge-uploads/*'] } },
        },
      ],
    });
  });

  it("makes the bucket private, never deleting objects, with the page's CORS rule for a given origin", () => {
    expect(resolve().resources.UploadBucket!.properties).toEqual({
      BucketName: 'my-yike-uploads',
      AccessControl: 'private',
      DeletionForce: false,
      CORSConfiguration: { CORSRule: [{ AllowedOrigin: ['https://yike.example.com'], AllowedMethod: ['POST'], AllowedHeader: ['*'], MaxAgeSeconds: 600 }] },
    });
  });

  it('gives the bucket no CORS rule without a page origin', () => {
    expect(resolve({ PageOrigin: '' }).resources.UploadBucket!.properties).toEqual({
      BucketName: 'my-yike-uploads',
      AccessControl: 'private',
      DeletionForce: false,
    });
  });

  it("makes the async destinations' queues, keeping messages a week", () => {
    const { resources } = resolve();
    expect([resources.SubmittedQueue!.properties, resources.FailedQueue!.properties]).toEqual([
      { QueueName: 'yike-jobs-submitted', MessageRetentionPeriod: 604800 },
      { QueueName: 'yike-jobs-failed', MessageRetentionPeriod: 604800 },
    ]);
  });

  it("makes the upload trigger's role: OSS may invoke oss-submit and nothing else", () => {
    expect(resolve().resources.OssTriggerRole!.properties).toEqual({
      RoleName: 'yike-oss-trigger-role',
      Description: "OSS invokes oss-submit with this role (the upload trigger's invocationRole)",
      AssumeRolePolicyDocument: { Version: '1', Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['oss.aliyuncs.com'] } }] },
      Policies: [
        {
          PolicyName: 'yike-oss-trigger-invoke',
          PolicyDocument: {
            Version: '1',
            Statement: [{ Effect: 'Allow', Action: ['fc:InvokeFunction'], Resource: ['acs:fc:cn-shanghai:123456789012:functions/yike-oss-submit'] }],
          },
        },
      ],
    });
  });

  it('outputs what s.yaml reads: the role, the bucket, the trigger role and the two queues', () => {
    expect(resolve().outputs.map(({ OutputKey, OutputValue }) => [OutputKey, OutputValue])).toEqual([
      ['RoleArn', 'acs:ram::123456789012:role/yike-fc-role'],
      ['BucketName', 'my-yike-uploads'],
      ['OssTriggerRoleArn', 'acs:ram::123456789012:role/yike-oss-trigger-role'],
      ['SubmittedQueueArn', 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-submitted'],
      ['FailedQueueArn', 'acs:mns:cn-shanghai:123456789012:/queues/yike-jobs-failed'],
    ]);
    expect(resolve().outputs.map((output) => output.OutputKey)).toEqual([...STACK_OUTPUTS]);
  });
});
