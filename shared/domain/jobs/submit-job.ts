import { buildAppParams, type AppRegistry } from './apps';
import type { ImageReferenceBuilder, ImageSource } from '../images/image-reference';
import { IceError, InputError, YikeError } from '../../runtime/errors';
import type { Ice, PrecheckAnswer } from '../ports';
import { recordSubmittedJob, type JobTracking } from '../lifecycle/record-submission';
import type { Payer, SpendingLimit } from '../budget/spending';

/** What any entry point (HTTP, OSS upload, pipeline event, CLI) asks for. */
export interface JobRequest {
  /** Friendly name (female/male) or AppId; falls back to the configured default. */
  app?: string;
  image: ImageSource;
  productionId?: string;
  folderId?: string;
  /** Whose budget the job spends: the caller's token (its quota), a renewal, an operator's override. */
  payer?: Payer;
}

export interface SubmittedJob {
  jobId: string;
  requestId: string;
  appId: string;
}

export interface JobDependencies {
  ice: Pick<Ice, 'submitYikeAIAppJob' | 'precheckYikeAIAppJob'>;
  apps: AppRegistry;
  images: ImageReferenceBuilder;
  defaults: { app?: string; productionId?: string; folderId?: string };
  /** PRECHECK=on: PrecheckYikeAIAppJob with the exact AppId and AppParams right before the submit. */
  precheck?: boolean;
  /** JOB_BUDGET_PER_DAY and the token quotas (shared/domain/budget/); absent: no limit, no extra call. */
  budget?: SpendingLimit;
}

/** Resolves the app first so a bad app name fails before anything is signed or sent. */
export function resolveApp(request: Pick<JobRequest, 'app'>, deps: Pick<JobDependencies, 'apps' | 'defaults'>) {
  const name = request.app ?? deps.defaults.app;
  if (!name) {
    throw new InputError('APP_REQUIRED', 'app: no app given and DEFAULT_APP is not set', [{ path: 'app', message: 'required' }]);
  }
  return deps.apps.resolve(name, request.app ? 'app' : 'DEFAULT_APP');
}

/**
 * Submits one job. With `tracking`, the job record (<RECORDS_PREFIX>jobs/<jobId>.json) and its in-flight marker
 * are written right after ICE accepts it, so the job watcher follows it to its outcome; that write never fails
 * the submit (see recordSubmittedJob).
 */
export async function submitJob(request: JobRequest, deps: JobDependencies, tracking?: JobTracking): Promise<SubmittedJob> {
  const { job, recordJob } = await submitJobThenRecord(request, deps, tracking);
  await recordJob();
  return job;
}

/**
 * Submits one job and hands back the job record's write instead of doing it: an idempotent caller runs it only
 * after its COMPLETED record is written, so an instance stopped in between can never lead to a second paid job
 * (at worst the job misses its record; recordSubmittedJob logs a failed write).
 */
export async function submitJobThenRecord(
  request: JobRequest,
  deps: JobDependencies,
  tracking?: JobTracking,
): Promise<{ job: SubmittedJob; recordJob: () => Promise<void> }> {
  const app = resolveApp(request, deps);
  const productionId = request.productionId ?? deps.defaults.productionId;
  const folderId = request.folderId ?? deps.defaults.folderId;
  let appParams: string;
  try {
    const imageReference = await deps.images.reference(request.image, undefined, { productionId, folderId });
    appParams = buildAppParams(app, imageReference);
    if (deps.precheck) assertPrecheckPassed(await deps.ice.precheckYikeAIAppJob({ appId: app.appId, appParams }));
  } catch (error) {
    throw beforeSubmit(error);
  }
  const submit = () => deps.ice.submitYikeAIAppJob({ appId: app.appId, appParams, productionId, folderId });
  // The spending limit claims its slot right before the paid call, and gives it back if ICE refuses it.
  const { jobId, requestId } = await (deps.budget ? deps.budget.spend(request.payer, submit) : submit());
  const recordJob = async () => {
    if (tracking) await recordSubmittedJob({ jobId, requestId, appId: app.appId, image: request.image, productionId, folderId }, tracking);
  };
  return { job: { jobId, requestId, appId: app.appId }, recordJob };
}

/**
 * Nothing before SubmitYikeAIAppJob can create a job. A read (precheck, asset lookup) or asset registration that
 * got no clear answer is an unknown outcome of that call only: for the job it is "not sent", so the entry points
 * neither record OUTCOME_UNKNOWN (which would block the image for good) nor answer "the job may exist".
 */
function beforeSubmit(error: unknown): unknown {
  if (!(error instanceof IceError) || error.outcome !== 'unknown') return error;
  return new IceError(error.code, `${error.message} (before the submit: no job was created)`, 'not-sent', {
    retryable: error.retryable,
    statusCode: error.statusCode,
    requestId: error.requestId,
    details: error.details,
    attempts: error.attempts,
    cause: error,
  });
}

/** A precheck that says Failed is PRECHECK_FAILED (422, not retryable), listing each {key, errorCode}; any other status passes. */
function assertPrecheckPassed(answer: PrecheckAnswer): void {
  if (answer.status !== 'Failed') return;
  const listed = answer.issues.length > 0 ? answer.issues.map((issue) => `${issue.key}: ${issue.errorCode}`).join(', ') : 'no reason given';
  throw new YikeError('PRECHECK_FAILED', `ICE's precheck refused the job's inputs (${listed})`, {
    statusCode: 422,
    requestId: answer.requestId,
    details: answer.issues,
  });
}

/** Refusals the same input always gets: job/idempotency records keep them (REJECTED) instead of retrying. */
export function isIceInputRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'PRECHECK_FAILED' || code === 'IMAGE_BLOCKED';
}
