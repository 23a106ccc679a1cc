import { createIceClient, type IceClient } from '../adapters/ice/client';
import { resolveCredentials, type CredentialsProvider } from '../adapters/openapi/credentials';
import { createOssClient } from '../adapters/oss/client';
import { createOssRecordStore } from '../adapters/oss/record-store';
import { createObjectUrlSigner } from '../adapters/oss/signed-urls';
import type { ObjectUrlSigner, RecordStore, RecordStoreFor } from '../domain/ports';
import { loadConfig, type Config } from '../runtime/config';
import { describeError } from '../runtime/errors';
import type { InvocationContext } from '../runtime/invocation';
import { createLogger, type Logger, type LogLevel, type LogSink } from '../runtime/logger';
import type { TuningOverrides } from '../runtime/tuning';

/**
 * The composition root: the only code that knows both the domain and the adapters. It builds the adapters for
 * one invocation and hands each domain module the ports it declares (shared/domain/ports.ts); TypeScript checks
 * here that every adapter fits its port. What every function needs is here; what only some need sits beside it
 * (submissions.ts, http.ts, watcher.ts), so a bundle carries only the adapters its function uses.
 */
export interface Services {
  config: Config;
  logger: Logger;
  /** The role's credentials, read again on every call (FC rotates the STS token between invocations). */
  credentials: CredentialsProvider;
  ice: IceClient;
  /** The record store of a bucket (one client per bucket for this invocation). */
  recordStore: RecordStoreFor;
  /** Signs GET URLs of objects with the role's credentials (the own copies' playUrl). */
  signUrl: ObjectUrlSigner;
}

export interface ServicesOptions {
  env?: NodeJS.ProcessEnv;
  /** Other timeouts, retries, paces or limits than TUNING's (tests and the bench only; never from the environment). */
  tuning?: TuningOverrides;
  context?: InvocationContext;
  sink?: LogSink;
  fields?: Record<string, unknown>;
  level?: LogLevel;
  /** The clock the budget's day is read from (tests and npm start only). */
  now?: () => Date;
}

/**
 * Wires one invocation. Config is parsed once per instance (per env object); credentials are read from this
 * invocation's context, because FC rotates the role's STS token between invocations.
 */
export function createServices(options: ServicesOptions = {}): Services {
  const env = options.env ?? process.env;
  const config = loadConfig(env, options.tuning);
  const logger = createLogger({
    level: options.level ?? config.logLevel,
    sink: options.sink,
    fields: { requestId: options.context?.requestId, function: options.context?.function?.name, ...options.fields },
  });
  // Read on every call (cheap) so a refresh after InvalidSecurityToken.Expired sees new values.
  const credentials: CredentialsProvider = () => resolveCredentials({ context: options.context, env });
  return {
    config,
    logger,
    credentials,
    ice: createIceClient({ config: config.ice, credentials, logger }),
    recordStore: recordStoresFor(config, credentials),
    signUrl: createObjectUrlSigner(config.oss, credentials),
  };
}

/** For a handler: a bad configuration is logged with the FC request id, then thrown. */
export function reportingConfiguration<T>(options: ServicesOptions, create: (options: ServicesOptions) => T): T {
  try {
    return create(options);
  } catch (error) {
    createLogger({ sink: options.sink, fields: { requestId: options.context?.requestId } }).error('configuration invalid', { error: describeError(error) });
    throw error;
  }
}

export function createServicesOrReport(options: ServicesOptions): Services {
  return reportingConfiguration(options, createServices);
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

/**
 * The FC API (2023-03-30) a function calls (the next function, the doctor's GetFunction): FC_ENDPOINT, or FC_ACCOUNT_ID
 * in ICE_REGION; else the account and region FC names in the invocation's context, the function's own.
 */
export function functionsApiOf(fc: Config['fc'], context: InvocationContext | undefined): Config['fc'] | undefined {
  if (fc.endpoint) return fc;
  if (!context?.accountId) return undefined;
  const region = context.region ?? fc.region;
  return { ...fc, region, endpoint: `${context.accountId}.${region}.fc.aliyuncs.com` };
}
