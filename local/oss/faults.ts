import type { IncomingMessage, ServerResponse } from 'node:http';
import { holdBody } from '../http';

/**
 * Injected failures for the local OSS endpoint, like the local ICE endpoint's `faults`: queued one-request
 * faults first, then an optional picker (seeded random faults for the reliability tests). Kinds:
 * - `fail`: answer `status` with an OSS error `code` and do nothing (503 SlowDown is OSS's throttling);
 * - `reset`: process the request (a PUT IS stored), then destroy the connection instead of answering;
 * - `delay`: receive the request, then hold it `ms` (or until `until` settles) before processing it, so a client with
 *   a shorter timeout gives up while the server still acts on it afterwards (a PUT IS stored, later). Held until
 *   the test releases it, no timer decides whether the client gave up first, however slow the machine.
 */
export type OssFault =
  | { kind: 'fail'; status: number; code: string }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** `held` is called once the request is received and held. */
  | { kind: 'delay'; until: Promise<unknown>; held?: () => void };

export interface OssRequestInfo {
  method: string;
  bucket?: string;
  key: string;
}

export interface OssFaults {
  failNext(count: number, status: number, code: string): void;
  resetNext(count: number): void;
  delayNext(count: number, ms: number): void;
  /** Holds the next request until release(); `held` resolves once the server has received it and holds it. */
  holdNext(): { held: Promise<void>; release: () => void };
  /** Consulted for every request no queued fault claims; return undefined to let it through. */
  pickWith(picker: ((request: OssRequestInfo) => OssFault | undefined) | undefined): void;
  clear(): void;
  /** How many faults were applied, by kind. */
  applied(): Record<OssFault['kind'], number>;
}

/** What the server does with a fault: an error to answer with, after an optional pause. */
export interface FaultEffect {
  error?: { status: number; code: string; message: string };
}

const MESSAGES: Record<string, string> = {
  SlowDown: 'Please reduce your request rate.',
  InternalError: 'We encountered an internal error. Please try again.',
  ServiceUnavailable: 'Service is unavailable. Please try again.',
};

export function createOssFaults(): OssFaults & { apply(req: IncomingMessage, res: ServerResponse, request: OssRequestInfo): Promise<FaultEffect> } {
  let queued: OssFault[] = [];
  let picker: ((request: OssRequestInfo) => OssFault | undefined) | undefined;
  const counts: Record<OssFault['kind'], number> = { fail: 0, reset: 0, delay: 0 };
  const queue = (count: number, fault: OssFault) => {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    for (let i = 0; i < count; i += 1) queued.push(fault);
  };
  return {
    failNext: (count, status, code) => queue(count, { kind: 'fail', status, code }),
    resetNext: (count) => queue(count, { kind: 'reset' }),
    delayNext: (count, ms) => queue(count, { kind: 'delay', ms }),
    holdNext: () => {
      let release!: () => void;
      let held!: () => void;
      const until = new Promise<void>((resolve) => {
        release = resolve;
      });
      const isHeld = new Promise<void>((resolve) => {
        held = resolve;
      });
      queue(1, { kind: 'delay', until, held });
      return { held: isHeld, release };
    },
    pickWith: (next) => {
      picker = next;
    },
    clear: () => {
      queued = [];
      picker = undefined;
      for (const kind of Object.keys(counts) as OssFault['kind'][]) counts[kind] = 0;
    },
    applied: () => ({ ...counts }),
    async apply(req, res, request) {
      const fault = queued.shift() ?? picker?.(request);
      if (!fault) return {};
      counts[fault.kind] += 1;
      switch (fault.kind) {
        case 'fail':
          return { error: { status: fault.status, code: fault.code, message: MESSAGES[fault.code] ?? 'Injected fault.' } };
        case 'delay':
          // The body is read now: once the client gives up, a closed connection's request could not be read any more.
          holdBody(req);
          if ('until' in fault) {
            fault.held?.();
            await fault.until;
          } else {
            await new Promise((resolve) => setTimeout(resolve, fault.ms));
          }
          return {};
        case 'reset': {
          // Let the request be processed, then cut the connection where the answer would go.
          const destroy = () => {
            req.socket.destroy();
            return res;
          };
          res.writeHead = destroy as unknown as ServerResponse['writeHead'];
          res.end = destroy as unknown as ServerResponse['end'];
          res.write = (() => destroy() && true) as unknown as ServerResponse['write'];
          return {};
        }
      }
    },
  };
}
