import type { AppRegistry } from './apps';
import type { ImageSource } from '../images/image-reference';
import type { ImageInputs } from '../images/image-modes/image-inputs';
import { IceError } from '../../runtime/errors';
import type { Ice } from '../ports';
import type { Payer, SpendingLimit } from '../budget/spending';

/** What any entry point (HTTP, OSS upload, pipeline event, CLI) asks for. */
export interface JobRequest {
  /** Friendly name (female/male) or AppId: required (there is no default app; an upload's comes from APP_ROUTES). */
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
  ice: Pick<Ice, 'submitYikeAIAppJob'>;
  apps: AppRegistry;
  /** The image in the form ICE takes (IMAGE_URL_MODE), prechecked with the exact AppId and AppParams the submit sends. */
  imageInputs: ImageInputs;
  defaults: { productionId?: string; folderId?: string };
  /** JOB_BUDGET_PER_DAY and the token quotas (shared/domain/budget/); absent: no limit, no extra call. */
  budget?: SpendingLimit;
}

/** Resolves the app first so a missing or unknown app fails before anything is signed or sent. */
export function resolveApp(request: Pick<JobRequest, 'app'>, deps: Pick<JobDependencies, 'apps'>) {
  return deps.apps.require(request.app, 'app');
}

/** What the paid call sent and got: the job, and what its job record says of it (the image as sent, the ids with their defaults). */
export interface SentJob {
  job: SubmittedJob;
  image: ImageSource;
  productionId?: string;
  folderId?: string;
}

/**
 * The paid step of the one submit (shared/domain/submissions/submit-yike-job.ts): the image in the form ICE takes
 * (prechecked), then SubmitYikeAIAppJob inside the spending limit. Records are the use case's: it writes the job
 * record only after its claim says COMPLETED.
 */
export async function sendSubmit(request: JobRequest, deps: JobDependencies): Promise<SentJob> {
  const app = resolveApp(request, deps);
  const productionId = request.productionId ?? deps.defaults.productionId;
  const folderId = request.folderId ?? deps.defaults.folderId;
  let appParams: string;
  try {
    appParams = await deps.imageInputs.appParamsFor(app, request.image, { productionId, folderId });
  } catch (error) {
    throw beforeSubmit(error);
  }
  const submit = () => deps.ice.submitYikeAIAppJob({ appId: app.appId, appParams, productionId, folderId });
  // The spending limit claims its slot right before the paid call, and gives it back if ICE refuses it.
  const { jobId, requestId } = await (deps.budget ? deps.budget.spend(request.payer, submit) : submit());
  return { job: { jobId, requestId, appId: app.appId }, image: request.image, productionId, folderId };
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

/** Refusals the same input always gets: job/idempotency records keep them (REJECTED) instead of retrying. */
export function isIceInputRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'PRECHECK_FAILED' || code === 'IMAGE_BLOCKED';
}
