import { createFunctionDirectory } from '../adapters/fc/control';
import { createIceClient } from '../adapters/ice/client';
import { resolveCredentials } from '../adapters/openapi/credentials';
import { createBucketInspector } from '../adapters/oss/buckets';
import { deliverWebhook } from '../adapters/webhook/webhook';
import { runFunctionDoctor, type DoctorPorts } from '../domain/doctor/function-doctor';
import type { FunctionDoctorReport, FunctionKind } from '../domain/doctor/report';
import { createAppRegistry } from '../domain/jobs/apps';
import { loadConfig } from '../runtime/config';
import { createLogger, type LogLevel } from '../runtime/logger';
import type { InvocationContext } from '../runtime/invocation';
import { createServices, functionsApiOf, type ServicesOptions } from './services';
import { createSubmissionServices } from './submissions';
import { selfInvoker } from './watcher';

/**
 * A function's answer to the doctor (shared/domain/doctor/function-doctor.ts), with its own role and configuration.
 * Only shared/triggers/events/doctor-run.ts imports it, and that file is loaded on first use (the build makes it
 * dist/<function>/doctor.js), so a normal invocation never parses any of this.
 */
const PROBE_ATTEMPTS = 2;

export async function runDoctor(kind: FunctionKind, options: ServicesOptions, request: { image?: string }): Promise<FunctionDoctorReport> {
  const env = options.env ?? process.env;
  const context = options.context;
  const functionName = context?.function?.name;
  let ports: DoctorPorts | { invalid: string };
  let level: LogLevel | undefined;
  try {
    level = loadConfig(env, options.tuning).logLevel;
    ports = doctorPorts(kind, options, context);
  } catch (error) {
    ports = { invalid: (error as Error).message };
  }
  const report = await runFunctionDoctor({ kind, functionName, env, ports, image: request.image });
  const logger = createLogger({ level, sink: options.sink, fields: { requestId: context?.requestId, function: functionName } });
  const failed = report.checks.filter((check) => check.status === 'fail').map((check) => check.id);
  logger[failed.length > 0 ? 'warn' : 'info']('doctor run', { kind, checks: report.checks.length, failed });
  return report;
}

function doctorPorts(kind: FunctionKind, options: ServicesOptions, context: InvocationContext | undefined): DoctorPorts {
  const quiet = { ...options, level: 'error' as const };
  // budget-renewal submits deferred items with the submit functions' image form: their doctor checks it, not this one.
  const submitting = kind === 'oss-submit' || kind === 'http-submit';
  const submission = submitting ? createSubmissionServices(quiet) : undefined;
  const services = submission ?? createServices(quiet);
  const { config, credentials } = services;
  // The probes are answers the doctor wants now: one retry at most, not the jobs' patience.
  const probeIce = createIceClient({ config: { ...config.ice, retry: { ...config.ice.retry, maxAttempts: PROBE_ATTEMPTS } }, credentials });
  const functionsApi = functionsApiOf(config.fc, context);
  return {
    config,
    credentials: () => {
      const found = credentials();
      const fromContext = (() => {
        try {
          return resolveCredentials({ context, env: {} }).accessKeyId === found.accessKeyId;
        } catch {
          return false;
        }
      })();
      return { source: fromContext ? "context.credentials (the function's role)" : 'the ALIBABA_CLOUD_* variables', expiresAt: found.expiresAt };
    },
    probe: (action, query) => probeIce.invoke(action, { query }, true),
    recordStore: services.recordStore,
    buckets: createBucketInspector(config.oss, credentials),
    apps: submission?.apps ?? createAppRegistry(config.apps),
    submission: submission ? { imageInputs: submission.imageInputs, imageObjects: submission.imageObjects } : undefined,
    watcher:
      kind === 'job-watcher'
        ? {
            sendWebhook: deliverWebhook,
            functions: functionsApi ? createFunctionDirectory({ config: functionsApi, credentials, readTimeoutMs: 5_000 }) : undefined,
            self: selfInvoker(services, context),
          }
        : undefined,
    alerts: kind === 'budget-renewal' ? { sendWebhook: deliverWebhook } : undefined,
  };
}
