import { signPostObjectForm } from '../adapters/oss/post-form';
import type { UploadFormSigner } from '../domain/ports';
import { uploadFormUrl } from '../domain/uploads/upload-form-url';
import { reportingConfiguration, type ServicesOptions } from './services';
import { createSubmissionServices, type SubmissionServices } from './submissions';

/** What the HTTP API (http-submit) needs beyond submitting: browser upload forms. */
export interface HttpServices extends SubmissionServices {
  uploadForms: UploadFormSigner;
}

function createHttpServices(options: ServicesOptions): HttpServices {
  const services = createSubmissionServices(options);
  const { config, credentials } = services;
  return {
    ...services,
    uploadForms: {
      credentialsExpireAt: () => credentials().expiresAt,
      sign: (form) => signPostObjectForm({ config, credentials: credentials(), url: uploadFormUrl(config, form.bucket), ...form }),
    },
  };
}

export function createHttpServicesOrReport(options: ServicesOptions): HttpServices {
  return reportingConfiguration(options, createHttpServices);
}
