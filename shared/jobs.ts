import { buildAppParams, type AppRegistry } from './apps';
import type { IceClient } from './ice/client';
import type { ImageReferenceBuilder, ImageSource } from './image';
import { InputError } from './errors';
import { precheckYikeAIAppJob } from './ice/yike-assets';

/** What any entry point (HTTP, OSS upload, pipeline event, CLI) asks for. */
export interface JobRequest {
  /** Friendly name (female/male) or AppId; falls back to the configured default. */
  app?: string;
  image: ImageSource;
  productionId?: string;
  folderId?: string;
}

export interface SubmittedJob {
  jobId: string;
  requestId: string;
  appId: string;
}

export interface JobDependencies {
  ice: IceClient;
  apps: AppRegistry;
  images: ImageReferenceBuilder;
  defaults: { app?: string; productionId?: string; folderId?: string };
  /** PRECHECK=on: PrecheckYikeAIAppJob with the exact AppId and AppParams right before the submit. */
  precheck?: boolean;
}

/** Resolves the app first so a bad app name fails before anything is signed or sent. */
export function resolveApp(request: Pick<JobRequest, 'app'>, deps: Pick<JobDependencies, 'apps' | 'defaults'>) {
  const name = request.app ?? deps.defaults.app;
  if (!name) {
    throw new InputError('APP_REQUIRED', 'app: no app given and DEFAULT_APP is not set', [{ path: 'app', message: 'required' }]);
  }
  return deps.apps.resolve(name, request.app ? 'app' : 'DEFAULT_APP');
}

export async function submitJob(request: JobRequest, deps: JobDependencies): Promise<SubmittedJob> {
  const app = resolveApp(request, deps);
  const productionId = request.productionId ?? deps.defaults.productionId;
  const folderId = request.folderId ?? deps.defaults.folderId;
  const imageReference = await deps.images.reference(request.image, undefined, { productionId, folderId });
  const appParams = buildAppParams(app, imageReference);
  if (deps.precheck) await precheckYikeAIAppJob(deps.ice, { appId: app.appId, appParams });
  const { jobId, requestId } = await deps.ice.submitYikeAIAppJob({ appId: app.appId, appParams, productionId, folderId });
  return { jobId, requestId, appId: app.appId };
}
