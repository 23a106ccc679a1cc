/**
 * One deployment worked out from the saved answers, offline: the stack's parameters, the role's policy, the budget and
 * how it was chosen, the s.yaml template and the YIKE_* variables it is rendered with (the stack's outputs among them).
 * `--dry-run` prints this; a deploy carries it out.
 */
import { YikeError } from '../../shared/runtime/errors';
import type { DeployAnswers } from './answers';
import { DEFAULT_JOB_BUDGET_PER_DAY, OSS_TRIGGER_ROLE_NAME, QUEUES, ROLE_NAME, STACK_NAME } from './deployment';
import { rolePolicy, type RamPolicy } from './policy';
import type { StackOutputs, StackParameters } from './template';

export interface DeploymentPlan {
  stackName: string;
  region: string;
  parameters: StackParameters;
  policy: RamPolicy;
  budget: { perDay: number | 'none'; chosen: 'default' | 'said' };
  /** s.yaml, or s.eventbridge.yaml (which extends it) when oss-submit-eventbridge is deployed. */
  serverlessTemplate: 's.yaml' | 's.eventbridge.yaml';
  /** What s.yaml is rendered with, before the stack's outputs are added (serverlessEnv). */
  variables: Record<string, string>;
}

/** The YIKE_* variables s.yaml reads that a deployment may pass through from your shell (docs/deploy.md). */
const PASSED_THROUGH = [
  'YIKE_PRODUCTION_ID',
  'YIKE_FOLDER_ID',
  'YIKE_IMAGE_URL_MODE',
  'YIKE_PRECHECK',
  'YIKE_BUDGET_TIMEZONE',
  'YIKE_JOB_PRICE',
  'YIKE_JOB_RESULTS',
  'YIKE_JOB_WEBHOOK_URL',
  'YIKE_JOB_WEBHOOK_SECRET',
  'YIKE_UPLOAD_FORM_URL',
  'YIKE_WEBHOOK_ALLOWED_HOSTS',
  'YIKE_RETENTION_DAYS',
  'YIKE_TICKET_SECRET',
  'YIKE_CONSENT_VERSION',
  'YIKE_SHARE_DAYS',
] as const;

export function planDeployment(answers: DeployAnswers, authTokens: string, env: NodeJS.ProcessEnv): DeploymentPlan {
  const plain = authTokens.split(',').filter((token) => token !== '' && !token.startsWith('sha256:'));
  if (plain.length > 0)
    throw new YikeError('PLAIN_TOKEN', 'the functions get bearer tokens only in their sha256: form (a plain token was about to be deployed)');
  const eventBridge = answers.eventBridge === true;
  const budget =
    answers.budget === undefined ? { perDay: DEFAULT_JOB_BUDGET_PER_DAY, chosen: 'default' as const } : { perDay: answers.budget, chosen: 'said' as const };
  const passed = Object.fromEntries(PASSED_THROUGH.flatMap((name) => (env[name] ? [[name, env[name]!]] : [])));
  return {
    stackName: STACK_NAME,
    region: answers.region,
    parameters: {
      AccountId: answers.accountId,
      Region: answers.region,
      BucketName: answers.bucket,
      PageOrigin: answers.pageOrigin ?? '',
      NextFunctionName: answers.nextFunction ?? '',
      EventBridgeUploads: eventBridge ? 'true' : 'false',
    },
    policy: rolePolicy({ account: answers.accountId, region: answers.region, bucket: answers.bucket, nextFunction: answers.nextFunction }, { eventBridge }),
    budget,
    serverlessTemplate: eventBridge ? 's.eventbridge.yaml' : 's.yaml',
    variables: {
      ...passed,
      YIKE_REGION: answers.region,
      YIKE_ACCOUNT_ID: answers.accountId,
      YIKE_UPLOAD_BUCKET: answers.bucket,
      YIKE_AUTH_TOKENS: authTokens,
      YIKE_JOB_BUDGET_PER_DAY: String(budget.perDay),
      YIKE_JOB_NEXT_FUNCTION: answers.nextFunction ?? '',
    },
  };
}

/** The outputs the stack will answer, named as ROS names what it creates: what --dry-run renders s.yaml with. */
export function expectedOutputs(plan: DeploymentPlan): StackOutputs {
  const { AccountId: account, Region: region, BucketName: bucket } = plan.parameters;
  return {
    RoleArn: `acs:ram::${account}:role/${ROLE_NAME}`,
    BucketName: bucket,
    OssTriggerRoleArn: `acs:ram::${account}:role/${OSS_TRIGGER_ROLE_NAME}`,
    SubmittedQueueArn: `acs:mns:${region}:${account}:/queues/${QUEUES.submitted}`,
    FailedQueueArn: `acs:mns:${region}:${account}:/queues/${QUEUES.failed}`,
  };
}

/** s.yaml's variables: the plan's and the stack's outputs. */
export function serverlessEnv(plan: DeploymentPlan, outputs: StackOutputs): Record<string, string> {
  return {
    ...plan.variables,
    YIKE_UPLOAD_BUCKET: outputs.BucketName,
    YIKE_ROLE_ARN: outputs.RoleArn,
    YIKE_OSS_TRIGGER_ROLE_ARN: outputs.OssTriggerRoleArn,
    YIKE_SUBMITTED_QUEUE_ARN: outputs.SubmittedQueueArn,
    YIKE_FAILED_QUEUE_ARN: outputs.FailedQueueArn,
  };
}
