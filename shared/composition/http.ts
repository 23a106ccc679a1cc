import { signPostObjectForm } from '../adapters/oss/post-form';
import type { UploadFormSigner } from '../domain/ports';
import { uploadFormUrl } from '../domain/uploads/upload-plan';
import { createServicesOrReport, type Services, type ServicesOptions } from './services';

/** What the HTTP API (http-submit) needs beyond the shared services: browser upload forms. */
export interface HttpServices extends Services {
  uploadForms: UploadFormSigner;
}

export function createHttpServicesOrReport(options: ServicesOptions): HttpServices {
  const services = createServicesOrReport(options);
  const { config, credentials } = services;
  return {
    ...services,
    uploadForms: {
      credentialsExpireAt: () => credentials().expiresAt,
      sign: (form) => signPostObjectForm({ config, credentials: credentials(), url: uploadFormUrl(config, form.bucket), ...form }),
    },
  };
}
