/**
 * The names a deployment is made of, in one place: what s.yaml (and s.eventbridge.yaml) deploy, what the ROS template
 * (deploy/infrastructure.json) creates, and what the role's policy is narrowed to. A test renders s.yaml and checks
 * that it uses these same names (test/integration/deploy/deploy-config.test.ts).
 */
import type { FunctionRef } from '../../shared/adapters/ram-grant';

/** The functions, by their s.yaml resource name. oss-submit-eventbridge is in s.eventbridge.yaml, deployed only when asked. */
export const FUNCTION_NAMES: Record<Exclude<FunctionRef, 'next'> | 'oss-submit-eventbridge', string> = {
  'http-submit': 'yike-http-submit',
  'oss-submit': 'yike-oss-submit',
  'oss-submit-eventbridge': 'yike-oss-submit-eb',
  'job-watcher': 'yike-job-watcher',
  'budget-renewal': 'yike-budget-renewal',
};

/** The OSS trigger's prefix (s.yaml uploadPrefix) and the EventBridge rule's (s.eventbridge.yaml). */
export const UPLOAD_PREFIX = 'uploads/';
export const EVENTBRIDGE_PREFIX = 'eventbridge-uploads/';

/** The async destinations' queues (oss-submit: onSuccess, onFailure; oss-submit-eventbridge: onFailure). */
export const QUEUES = { submitted: 'yike-jobs-submitted', failed: 'yike-jobs-failed' } as const;

/** The stack's name, and what it names after itself. */
export const STACK_NAME = 'yike-fc';
export const ROLE_NAME = 'yike-fc-role';
export const OSS_TRIGGER_ROLE_NAME = 'yike-oss-trigger-role';

/** ICE's regions (docs/platform-facts.md, "ICE endpoints"): the bucket, the functions and the stack go in one of them. */
export const ICE_REGIONS = ['cn-shanghai', 'cn-beijing', 'cn-hangzhou', 'cn-shenzhen', 'ap-southeast-1', 'us-west-1'] as const;

/** The daily budget a deployment gets unless another one, or none, is said out loud (docs/budget.md). */
export const DEFAULT_JOB_BUDGET_PER_DAY = 100;
