import { createHttpServicesOrReport, type HttpServices } from '../../shared/composition/http';
import { describeError } from '../../shared/runtime/errors';
import { remainingTimeFrom, type InvocationContext } from '../../shared/runtime/invocation';
import type { LogSink } from '../../shared/runtime/logger';
import type { TuningOverrides } from '../../shared/runtime/tuning';
import { answerDoctor, withDoctor } from '../../shared/triggers/events/doctor';
import { toApiRequest, toFcHttpResponse, type ApiRequest } from '../../shared/triggers/events/fc-http';
import { handleApiRequest } from '../../shared/triggers/http/api';
import { httpError } from '../../shared/triggers/http/errors';

/**
 * FC 3.0 HTTP trigger: request struct in, response struct out. The API itself lives in shared/triggers/http.
 * {"yike":"doctor"} (a synchronous InvokeFunction from npx yike-doctor, never the HTTP trigger) gets the doctor's report.
 * `now` is for tests and `npm start` only; `sleep` with it runs `?wait=N` and the invocation's deadline on that clock
 * (a simulated one in the tests), as the job watcher's handler does.
 */
export const createHandler = (
  options: { env?: NodeJS.ProcessEnv; tuning?: TuningOverrides; sink?: LogSink; now?: () => Date; sleep?: (ms: number) => Promise<void> } = {},
) =>
  withDoctor('http-submit', options, async (event: unknown, context: InvocationContext) => {
    const startedAtMs = Date.now();
    const clock = options.sleep && options.now ? { now: () => options.now!().getTime(), sleep: options.sleep } : undefined;
    let services: HttpServices;
    try {
      // `now` (tests, the local cloud): the clock the budget's day is read from.
      services = createHttpServicesOrReport({ context, env: options.env, tuning: options.tuning, sink: options.sink, now: options.now });
    } catch {
      // Bad configuration: said in the log, never in the body.
      return errorResponse(500, 'INTERNAL', 'Internal error');
    }
    const { logger } = services;

    let request: ApiRequest;
    try {
      request = toApiRequest(event);
    } catch (error) {
      logger.error('http event not understood', { error: describeError(error) });
      return errorResponse(400, 'BAD_REQUEST', 'The request could not be read');
    }

    const outcome = await handleApiRequest(request, {
      services,
      remainingTimeMs: remainingTimeFrom(context, clock?.now() ?? startedAtMs, clock?.now),
      now: options.now,
      clock,
      doctor: (doctorRequest) => answerDoctor('http-submit', { env: options.env, tuning: options.tuning, sink: options.sink, context }, doctorRequest),
    });
    const status = outcome.response.statusCode;
    logger[status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info']('http request', {
      method: request.method,
      route: outcome.route,
      status,
      jobId: outcome.jobId,
      replayed: outcome.replayed,
      latencyMs: Date.now() - startedAtMs,
      ...(outcome.error ? { error: describeError(outcome.error) } : {}),
    });
    return toFcHttpResponse(outcome.response);
  });

export const handler = createHandler();

function errorResponse(statusCode: number, code: string, message: string) {
  const error = httpError(statusCode, code, message);
  return toFcHttpResponse({ statusCode, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(error.body) });
}
