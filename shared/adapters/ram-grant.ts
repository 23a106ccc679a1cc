/**
 * One permission the functions' role needs, declared beside the adapter call that needs it (ice/permissions.ts,
 * oss/permissions.ts, fc/permissions.ts). `on` names what the call touches in deployment terms; the deploy command
 * (cli/deploy/policy.ts) turns every grant into RAM policy statements whose resources are this deployment's bucket,
 * prefixes and functions, and leaves out the grants whose resource is not deployed (no next function: no grant on it).
 * A new cloud call adds its line here; test/integration/deploy/recorded-calls.test.ts fails on a call no grant allows
 * and on a grant no call uses.
 */
export type ObjectArea =
  /** The upload prefix the OSS trigger watches (uploads/): the images, and the page's browser uploads. */
  | 'uploads'
  /** The prefix the EventBridge rule watches (eventbridge-uploads/), only when oss-submit-eventbridge is deployed. */
  | 'eventbridge-uploads'
  /** The job records (.yike-jobs/): submit claims, job records, in-flight markers, budget slots, settings. */
  | 'records'
  /** The results (.yike-results/): result objects and output copies. */
  | 'results';

/** A function of this deployment, by its s.yaml resource name; `next` is JOB_NEXT_FUNCTION, when one is configured. */
export type FunctionRef = 'next' | 'http-submit' | 'oss-submit' | 'job-watcher' | 'budget-renewal';

export type GrantTarget =
  /** Resource "*": the API has no resource-level permission. */
  | { any: true }
  /** The objects under one area: acs:oss:*:<account>:<bucket>/<prefix>*. */
  | { objects: ObjectArea }
  /** A ListObjects of the bucket limited to one area: the bucket, with Condition StringLike oss:Prefix <prefix>*. */
  | { listing: ObjectArea }
  /** The bucket itself: acs:oss:*:<account>:<bucket>. */
  | { bucket: true }
  /** One function: acs:fc:<region>:<account>:functions/<name>. */
  | { function: FunctionRef };

export interface RamGrant {
  /** A documented RAM action, e.g. oss:GetObject. */
  action: string;
  on: GrantTarget;
  /** The adapter call that needs it, and why: what a reader of the policy wants to know. */
  by: string;
}
