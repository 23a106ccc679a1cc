/**
 * functions/http-submit/index as the tests load it (jest.config.js moduleNameMapper): the real module, whose handlers
 * hand every answer to an HTTP request to the OpenAPI check (openapi-check.ts) before returning it unchanged. Events
 * that are no HTTP request (the doctor's {"yike":"doctor"}, the fuzz tests' garbage) are not HTTP answers: not checked.
 */
import { toApiRequest } from '../../shared/triggers/events/fc-http';
import { checkHttpAnswer } from './openapi-check';

// The path with its extension: the module name mapper maps only `…/functions/http-submit/index`.
const real = require('../../functions/http-submit/index.ts') as typeof import('../../functions/http-submit/index');

type Handler = ReturnType<typeof real.createHandler>;

function checked(handler: Handler): Handler {
  const wrapped = async (event: unknown, context: Parameters<Handler>[1]) => {
    const result = await handler(event, context);
    let request: { method: string; path: string } | undefined;
    try {
      request = toApiRequest(event);
    } catch {
      request = undefined;
    }
    if (request) {
      const answer = result as { statusCode: number; headers: Record<string, string>; body: string };
      checkHttpAnswer({ method: request.method, path: request.path, statusCode: answer.statusCode, headers: answer.headers, body: answer.body });
    }
    return result;
  };
  return wrapped as Handler;
}

export const createHandler: typeof real.createHandler = (options) => checked(real.createHandler(options));
export const handler = checked(real.handler);
