import { createFunctionInvoker } from '../adapters/fc/invoke';
import { createResultCopier } from '../adapters/oss/result-copier';
import { deliverWebhook, type AddressGuard } from '../adapters/webhook/webhook';
import type { WatcherDependencies } from '../domain/lifecycle/watcher';
import type { FunctionInvoker, ResultCopier, WebhookSender } from '../domain/ports';
import type { InvocationContext } from '../runtime/invocation';
import { functionsApiOf, type Services } from './services';

/**
 * Where a job's own webhook may connect (tests only): the resolver its host is looked up with (default: the system's,
 * every address), and which addresses count as allowed (default: none that leads inside, adapters/webhook/addresses.ts).
 */
export type JobWebhookNetwork = Partial<AddressGuard>;

/**
 * The job watcher's ports: the shared services plus the notification channels' adapters (webhook, a job's own webhook
 * behind its address guard, FC InvokeFunction) and, with `copy` in JOB_RESULTS, the output copier and the signer of
 * the copies' playUrl.
 */
export function watcherDependencies(
  services: Services,
  context: InvocationContext | undefined,
  run: Pick<WatcherDependencies, 'remainingTimeMs' | 'reserveMs' | 'now' | 'clock' | 'self' | 'scheduledFor' | 'requestId'>,
  network: JobWebhookNetwork = {},
): WatcherDependencies {
  const { config } = services;
  const sendWebhook: WebhookSender = deliverWebhook;
  const sendJobWebhook: WebhookSender = (delivery) => deliverWebhook({ ...delivery, guard: network });
  const copier: ResultCopier | undefined = config.lifecycle.resultCopy ? createResultCopier(config.oss, services.credentials) : undefined;
  return {
    config,
    ice: services.ice,
    recordStore: services.recordStore,
    invoker: config.lifecycle.nextFunction ? nextFunctionInvoker(services, context) : undefined,
    sendWebhook,
    sendJobWebhook,
    copier,
    signUrl: services.signUrl,
    logger: services.logger,
    ...run,
  };
}

/** FC_ENDPOINT / FC_ACCOUNT_ID, else the account and region FC names in the context: the function's own. */
function nextFunctionInvoker(services: Services, context: InvocationContext | undefined): FunctionInvoker | undefined {
  const fc = functionsApiOf(services.config.fc, context);
  if (!fc) {
    services.logger.error('JOB_NEXT_FUNCTION is set but there is no FC endpoint: set FC_ACCOUNT_ID or FC_ENDPOINT');
    return undefined;
  }
  return shortInvoker(services, fc);
}

/**
 * The watcher's own function (its name from the FC context; its account and region too, unless FC_ENDPOINT says
 * otherwise), for the rounds it schedules itself and the doctor's delay probe. The role may invoke it: shared/adapters/fc/permissions.ts declares the grant.
 * None without a name or an endpoint: the run then sleeps between its rounds.
 */
export function selfInvoker(services: Services, context: InvocationContext | undefined): WatcherDependencies['self'] {
  const functionName = context?.function?.name;
  const fc = functionsApiOf(services.config.fc, context);
  return functionName && fc ? { functionName, invoker: shortInvoker(services, fc) } : undefined;
}

function shortInvoker(services: Services, fc: NonNullable<ReturnType<typeof functionsApiOf>>): FunctionInvoker {
  // Short, so one delivery fits the watcher's reserve (NEXT_FUNCTION_BUDGET_MS); a failure is retried next tick.
  return createFunctionInvoker({
    config: fc,
    credentials: services.credentials,
    logger: services.logger,
    readTimeoutMs: 5_000,
    connectTimeoutMs: 2_000,
    retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 1_000 },
  });
}
