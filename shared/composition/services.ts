import { createAppRegistry, type AppRegistry } from '../domain/jobs/apps';
import { describeError } from '../runtime/errors';
import { loadConfig, type Config } from '../runtime/config';
import { resolveCredentials, type CredentialsProvider } from '../adapters/openapi/credentials';
import { createIceClient, type IceClient } from '../adapters/ice/client';
import { createImageReferenceBuilder, type ImageReferenceBuilder } from '../domain/images/image-reference';
import type { JobDependencies } from '../domain/jobs/submit-job';
import { createOssRecordStore, type RecordStore } from '../adapters/oss/record-store';
import { createOssClient } from '../adapters/oss/client';
import { createLogger, type Logger, type LogLevel, type LogSink } from '../runtime/logger';
import { resolveYikeAssetId } from '../domain/images/yike-asset-reference';

/** The FC 3.0 context fields we use (events/fc3-context.json). */
export interface InvocationContext {
  requestId?: string;
  credentials?: unknown;
  function?: { name?: string; timeout?: number };
  region?: string;
  accountId?: string;
  retryCount?: number;
}

export interface Services extends JobDependencies {
  config: Config;
  logger: Logger;
  credentials: CredentialsProvider;
  ice: IceClient;
  apps: AppRegistry;
  images: ImageReferenceBuilder;
}

/**
 * Wires the domain for one invocation. Config is parsed once per instance (per env object); credentials
 * are read from this invocation's context, because FC rotates the role's STS token between invocations.
 */
export function createServices(
  options: { env?: NodeJS.ProcessEnv; context?: InvocationContext; sink?: LogSink; fields?: Record<string, unknown>; level?: LogLevel } = {},
): Services {
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
  // Yike asset records (IMAGE_URL_MODE=yike-asset) live beside the job records.
  const assetStore = (bucket: string) => createOssRecordStore(createOssClient(config.oss, credentials(), bucket));
  const resolveYikeAsset = (object: Parameters<typeof resolveYikeAssetId>[0]) =>
    resolveYikeAssetId(object, { ice, recordStore: assetStore, recordsPrefix: config.records.prefix, recordsBucket: config.records.bucket, logger });
  return {
    config,
    logger,
    credentials,
    ice,
    apps: createAppRegistry(config.apps),
    images: createImageReferenceBuilder(config.oss, credentials, ice, resolveYikeAsset),
    defaults: config.defaults,
    precheck: config.ice.precheck,
  };
}

/** createServices for a handler: a bad configuration is logged with the FC request id, then thrown. */
export function createServicesOrReport(options: Parameters<typeof createServices>[0] & { context?: InvocationContext }): Services {
  try {
    return createServices(options);
  } catch (error) {
    createLogger({ sink: options.sink, fields: { requestId: options.context?.requestId } }).error('configuration invalid', { error: describeError(error) });
    throw error;
  }
}

/** FC gives the timeout (seconds) but no remaining-time call: the deadline is start + timeout. */
const DEFAULT_TIMEOUT_SECONDS = 60;

export function remainingTimeFrom(context: InvocationContext | undefined, startedAtMs: number): () => number {
  const deadlineMs = startedAtMs + (context?.function?.timeout ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  return () => deadlineMs - Date.now();
}

/** Record stores per bucket for one invocation, signed with this invocation's credentials. */
export function recordStoresFor(services: Services): (bucket: string) => RecordStore {
  const stores = new Map<string, RecordStore>();
  return (bucket) => {
    let store = stores.get(bucket);
    if (!store) {
      store = createOssRecordStore(createOssClient(services.config.oss, services.credentials(), bucket, services.config.oss.timeoutMs));
      stores.set(bucket, store);
    }
    return store;
  };
}
