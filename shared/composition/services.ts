import { createIceClient, type IceClient } from '../adapters/ice/client';
import { resolveCredentials, type CredentialsProvider } from '../adapters/openapi/credentials';
import { createOssClient } from '../adapters/oss/client';
import { createImageObjects } from '../adapters/oss/image-objects';
import { createOssRecordStore } from '../adapters/oss/record-store';
import { createImagePolicy, type ImagePolicy } from '../domain/images/image-policy';
import { createImageReferenceBuilder } from '../domain/images/image-reference';
import { resolveYikeAssetId } from '../domain/images/yike-asset-reference';
import { createAppRegistry, type AppRegistry } from '../domain/jobs/apps';
import type { JobDependencies } from '../domain/jobs/submit-job';
import type { ImageObjects, RecordStore, RecordStoreFor } from '../domain/ports';
import { loadConfig, type Config } from '../runtime/config';
import { describeError } from '../runtime/errors';
import type { InvocationContext } from '../runtime/invocation';
import { createLogger, type Logger, type LogLevel, type LogSink } from '../runtime/logger';

/**
 * The composition root: the only module that knows both the domain and the adapters. It builds the adapters for
 * one invocation and hands each domain module the ports it declares (shared/domain/ports.ts); TypeScript checks
 * here that every adapter fits its port. Per-function extras live beside it (http.ts, watcher.ts), so a bundle
 * carries only the adapters its function uses.
 */
export interface Services extends JobDependencies {
  config: Config;
  logger: Logger;
  /** The role's credentials, read again on every call (FC rotates the STS token between invocations). */
  credentials: CredentialsProvider;
  ice: IceClient;
  apps: AppRegistry;
  /** The record store of a bucket (one client per bucket for this invocation). */
  recordStore: RecordStoreFor;
  imageObjects: ImageObjects;
  /** ALLOWED_BUCKETS / ALLOWED_IMAGE_HOSTS and the reserved prefixes. */
  imagePolicy: ImagePolicy;
}

export interface ServicesOptions {
  env?: NodeJS.ProcessEnv;
  context?: InvocationContext;
  sink?: LogSink;
  fields?: Record<string, unknown>;
  level?: LogLevel;
}

/**
 * Wires the domain for one invocation. Config is parsed once per instance (per env object); credentials
 * are read from this invocation's context, because FC rotates the role's STS token between invocations.
 */
export function createServices(options: ServicesOptions = {}): Services {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const logger = createLogger({
    level: options.level ?? config.logLevel,
    sink: options.sink,
    fields: { requestId: options.context?.requestId, function: options.context?.function?.name, ...options.fields },
  });
  // Read on every call (cheap) so a refresh after InvalidSecurityToken.Expired sees new values.
  const credentials: CredentialsProvider = () => resolveCredentials({ context: options.context, env });
  const ice = createIceClient({ config: config.ice, credentials, logger });
  const recordStore = recordStoresFor(config, credentials);
  const imageObjects: ImageObjects = createImageObjects(config.oss, credentials);
  // Yike asset records (IMAGE_URL_MODE=yike-asset) live beside the job records.
  const resolveYikeAsset = (object: Parameters<typeof resolveYikeAssetId>[0]) =>
    resolveYikeAssetId(object, { ice, recordStore, recordsPrefix: config.records.prefix, recordsBucket: config.records.bucket, logger });
  return {
    config,
    logger,
    credentials,
    ice,
    apps: createAppRegistry(config.apps),
    images: createImageReferenceBuilder({ config: config.oss, objects: imageObjects, ice, resolveYikeAsset }),
    defaults: config.defaults,
    precheck: config.ice.precheck,
    recordStore,
    imageObjects,
    imagePolicy: createImagePolicy(config),
  };
}

/** createServices for a handler: a bad configuration is logged with the FC request id, then thrown. */
export function createServicesOrReport(options: ServicesOptions): Services {
  try {
    return createServices(options);
  } catch (error) {
    createLogger({ sink: options.sink, fields: { requestId: options.context?.requestId } }).error('configuration invalid', { error: describeError(error) });
    throw error;
  }
}

/** Record stores per bucket for one invocation, signed with this invocation's credentials. */
function recordStoresFor(config: Config, credentials: CredentialsProvider): RecordStoreFor {
  const stores = new Map<string, RecordStore>();
  return (bucket) => {
    let store = stores.get(bucket);
    if (!store) {
      store = createOssRecordStore(createOssClient(config.oss, credentials(), bucket, config.oss.timeoutMs));
      stores.set(bucket, store);
    }
    return store;
  };
}
