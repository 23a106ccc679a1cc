import { createImageObjects } from '../adapters/oss/image-objects';
import { imageModeFindings } from '../domain/images/image-modes/findings';
import { candidateForms, createImageInputs } from '../domain/images/image-modes/image-inputs';
import { createImagePolicy, type ImagePolicy } from '../domain/images/image-policy';
import { createImageReferenceBuilder, type ImageReferenceBuilder } from '../domain/images/image-reference';
import { resolveYikeAssetId } from '../domain/images/yike-asset-reference';
import { createAppRegistry, type AppRegistry } from '../domain/jobs/apps';
import type { JobDependencies } from '../domain/jobs/submit-job';
import type { ImageObjects } from '../domain/ports';
import { spendingLimitFor } from './budget';
import { createServices, reportingConfiguration, type Services, type ServicesOptions } from './services';

/** What submitting needs beyond the shared services (the upload and HTTP functions, yike-submit): apps and images. */
export interface SubmissionServices extends Services, Omit<JobDependencies, 'ice'> {
  apps: AppRegistry;
  imageObjects: ImageObjects;
  /** The image reference in one form (the doctor probes forms with it too). */
  images: ImageReferenceBuilder;
  /** ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS and the reserved prefixes. */
  imagePolicy: ImagePolicy;
}

export function createSubmissionServices(options: ServicesOptions = {}): SubmissionServices {
  const services = createServices(options);
  const { config, credentials, ice, recordStore, logger } = services;
  const imageObjects: ImageObjects = createImageObjects(config.oss, credentials);
  // Yike asset records (the yike-asset form) and the image mode findings (IMAGE_URL_MODE=auto) live beside the job records.
  const resolveYikeAsset = (object: Parameters<typeof resolveYikeAssetId>[0]) =>
    resolveYikeAssetId(object, { ice, recordStore, recordsPrefix: config.records.prefix, recordsBucket: config.records.bucket, logger });
  const images = createImageReferenceBuilder({ config: config.oss, objects: imageObjects, ice, resolveYikeAsset });
  return {
    ...services,
    apps: createAppRegistry(config.apps),
    images,
    imageInputs: createImageInputs({
      mode: config.oss.imageUrlMode,
      precheck: config.ice.precheck,
      region: config.ice.region,
      candidates: candidateForms(config.oss.cdnBaseUrl !== undefined),
      images,
      ice,
      findings: (imageBucket) =>
        imageModeFindings({
          store: recordStore(config.records.bucket ?? imageBucket),
          bucket: config.records.bucket ?? imageBucket,
          recordsPrefix: config.records.prefix,
        }),
      logger,
    }),
    defaults: config.defaults,
    budget: spendingLimitFor(services, options.now),
    imageObjects,
    imagePolicy: createImagePolicy(config),
  };
}

export function createSubmissionServicesOrReport(options: ServicesOptions): SubmissionServices {
  return reportingConfiguration(options, createSubmissionServices);
}
