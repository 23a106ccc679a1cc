import { createImageObjects } from '../adapters/oss/image-objects';
import { createImagePolicy, type ImagePolicy } from '../domain/images/image-policy';
import { createImageReferenceBuilder } from '../domain/images/image-reference';
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
  /** ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS and the reserved prefixes. */
  imagePolicy: ImagePolicy;
}

export function createSubmissionServices(options: ServicesOptions = {}): SubmissionServices {
  const services = createServices(options);
  const { config, credentials, ice, recordStore, logger } = services;
  const imageObjects: ImageObjects = createImageObjects(config.oss, credentials);
  // Yike asset records (IMAGE_URL_MODE=yike-asset) live beside the job records.
  const resolveYikeAsset = (object: Parameters<typeof resolveYikeAssetId>[0]) =>
    resolveYikeAssetId(object, { ice, recordStore, recordsPrefix: config.records.prefix, recordsBucket: config.records.bucket, logger });
  return {
    ...services,
    apps: createAppRegistry(config.apps),
    images: createImageReferenceBuilder({ config: config.oss, objects: imageObjects, ice, resolveYikeAsset }),
    defaults: config.defaults,
    precheck: config.ice.precheck,
    budget: spendingLimitFor(services, options.now),
    imageObjects,
    imagePolicy: createImagePolicy(config),
  };
}

export function createSubmissionServicesOrReport(options: ServicesOptions): SubmissionServices {
  return reportingConfiguration(options, createSubmissionServices);
}
