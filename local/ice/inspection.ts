/**
 * The local ICE endpoint's inspection routes under /__local/: what a process that did not start the server (npm
 * start's users, the browser tests, bench/) uses to read jobs and calls, reset the server and inject faults. They
 * are plain JSON, unsigned, and never count as RPC requests (no fault applies to them).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseAcceptedForm, type IceAcceptance } from './acceptance';
import { sendPlainJson } from './answers';
import { applyFaultRequest } from './faults';
import type { AcceptedJob, IceFaultControls, ReceivedCall } from './types';
import { readBody } from '../http';

export const INSPECTION_PREFIX = '/__local/';
const HTTP_OK = 200;
const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;

export interface InspectedServer {
  /** Copies of the accepted jobs and received calls. */
  jobs(): AcceptedJob[];
  calls(): ReceivedCall[];
  reset(): void;
  faults: IceFaultControls;
  pendingFaults(): number;
  /** The accepted image form and the forbidden actions (acceptance.ts), read and changed by /__local/settings. */
  acceptance: IceAcceptance;
  /** Largest POST /__local/faults body read. */
  maxBodyBytes: number;
}

/**
 * GET jobs, GET calls, POST reset, POST faults (the body applyFaultRequest takes), GET settings and POST settings
 * ({"accepts"?: "yike-asset"|"media-id"|"url"|"any", "forbiddenActions"?: ["GetYikeAIAppJob", ...]}); anything else is a 404.
 */
export function createInspectionRoutes(server: InspectedServer) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const route = `${req.method} ${url.pathname}`;
    if (route === `GET ${INSPECTION_PREFIX}jobs`) return sendPlainJson(res, HTTP_OK, { jobs: server.jobs() });
    if (route === `GET ${INSPECTION_PREFIX}calls`) return sendPlainJson(res, HTTP_OK, { calls: server.calls() });
    if (route === `POST ${INSPECTION_PREFIX}reset`) {
      server.reset();
      return sendPlainJson(res, HTTP_OK, { ok: true });
    }
    if (route === `POST ${INSPECTION_PREFIX}faults`) {
      const body = await readBody(req, server.maxBodyBytes);
      try {
        applyFaultRequest(server.faults, JSON.parse(body?.toString('utf8') || '{}'));
      } catch (error) {
        return sendPlainJson(res, HTTP_BAD_REQUEST, { error: error instanceof Error ? error.message : String(error) });
      }
      return sendPlainJson(res, HTTP_OK, { ok: true, pendingFaults: server.pendingFaults() });
    }
    const settings = () => ({ accepts: server.acceptance.accepted(), forbiddenActions: server.acceptance.forbiddenActions() });
    if (route === `GET ${INSPECTION_PREFIX}settings`) return sendPlainJson(res, HTTP_OK, settings());
    if (route === `POST ${INSPECTION_PREFIX}settings`) {
      const body = await readBody(req, server.maxBodyBytes);
      try {
        applySettings(server.acceptance, JSON.parse(body?.toString('utf8') || '{}'));
      } catch (error) {
        return sendPlainJson(res, HTTP_BAD_REQUEST, { error: error instanceof Error ? error.message : String(error) });
      }
      return sendPlainJson(res, HTTP_OK, settings());
    }
    return sendPlainJson(res, HTTP_NOT_FOUND, { error: `no inspection route ${route}` });
  };
}

/** Validated whole before anything changes, so a bad request changes nothing. */
function applySettings(acceptance: IceAcceptance, request: unknown): void {
  if (typeof request !== 'object' || request === null) throw new TypeError('expected a JSON object');
  const { accepts, forbiddenActions } = request as Record<string, unknown>;
  const form = accepts === undefined ? undefined : parseAcceptedForm(typeof accepts === 'string' ? accepts : String(accepts), 'accepts');
  if (forbiddenActions !== undefined && (!Array.isArray(forbiddenActions) || forbiddenActions.some((action) => typeof action !== 'string' || action === ''))) {
    throw new TypeError('forbiddenActions must be an array of action names');
  }
  if (form) acceptance.setAccepts(form);
  if (forbiddenActions) acceptance.setForbiddenActions(forbiddenActions as string[]);
}
