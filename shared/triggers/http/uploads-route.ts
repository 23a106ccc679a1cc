import type { HttpServices } from '../../composition/http';
import { planUpload, uploadableApps, uploadRequestSchema, type UploadPlan } from '../../domain/uploads/upload-plan';
import { invalidBody, type RouteAnswer } from './errors';
import type { AppsBody, UploadFormBody } from './responses';

/**
 * `POST /uploads` {app, fileName, contentType, size, metadata?}: a signed PostObject form for one fresh key in the upload bucket (the first ALLOWED_BUCKETS).
 * `GET /apps`: the apps a browser can upload for. Both are authenticated like /jobs (api.ts), and neither calls ICE:
 * the job is submitted by the OSS trigger once the browser's upload lands.
 */
export function listUploadableApps(services: HttpServices): RouteAnswer<AppsBody> {
  const { config, apps } = services;
  return {
    ok: true,
    status: 200,
    body: { apps: uploadableApps(config, apps), maxImageBytes: config.uploads.maxImageBytes, imageSuffixes: config.uploads.imageSuffixes },
  };
}

export function createUploadForm(body: unknown, services: HttpServices, caller?: string): RouteAnswer<UploadFormBody> {
  const parsed = uploadRequestSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: invalidBody(parsed.error.issues) };
  const { config, apps } = services;
  // A token with a quota: the key carries its name (never the token), so the upload counts against it.
  const tokenName = caller !== undefined && config.budget.tokenQuotas[caller] !== undefined ? caller : undefined;
  return signedForm(planUpload(parsed.data, config, apps, { credentialsExpireAt: services.uploadForms.credentialsExpireAt(), tokenName }), services);
}

/** The `201` of `POST /uploads`: the plan's PostObject form, signed with the function's role. */
export function signedForm(plan: UploadPlan, services: HttpServices): RouteAnswer<UploadFormBody> {
  const form = services.uploadForms.sign({ bucket: plan.bucket, key: plan.key, contentType: plan.contentType, policy: plan.policy, fields: plan.fields });
  return {
    ok: true,
    status: 201,
    body: {
      bucket: plan.bucket,
      key: plan.key,
      app: { name: plan.appName, appId: plan.app.appId },
      url: form.url,
      fields: form.fields,
      maxBytes: plan.maxBytes,
      expiresAt: plan.expiresAt.toISOString(),
    },
  };
}
