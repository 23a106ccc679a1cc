/**
 * Injected failures for the local ICE endpoint (LocalIceServer['faults'] and POST /__local/faults): a queue of
 * one-request faults, then an optional picker (seeded random faults for the reliability tests). The server asks
 * for the next fault once per RPC request and acts it out; this module only decides which one it is.
 *
 * Sources:
 * - [COMMON]  Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438): Throttling.User (400).
 */
import type { IceFault, IceFaultControls } from './types';

const DEFAULT_THROTTLING_CODE = 'Throttling.User';
const MIN_ERROR_STATUS = 400;
const MAX_ERROR_STATUS = 599;

/** The public `faults` of the server, and what the server itself needs: the next fault, the count, a reset. */
export function createIceFaults(): {
  faults: IceFaultControls;
  /** The fault the next RPC request meets: the first queued one, else the picker's choice for `action`. */
  next(action: string): IceFault | undefined;
  pendingCount(): number;
  /** Forgets queued faults and the picker. */
  clear(): void;
} {
  let pendingFaults: IceFault[] = [];
  let faultPicker: ((action: string) => IceFault | undefined) | undefined;
  const queue = (count: number, fault: IceFault): void => {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    for (let i = 0; i < count; i += 1) pendingFaults.push(fault);
  };
  const faults: IceFaultControls = {
    throttleNext: (count, code = DEFAULT_THROTTLING_CODE) => queue(count, { kind: 'throttle', code }),
    failNext: (count, status, code, opts) =>
      queue(count, { kind: 'fail', status: errorStatus(status, 'status'), code, nonJsonBody: opts?.nonJsonBody ?? false }),
    delayNext: (count, ms) => queue(count, { kind: 'delay', ms }),
    dropNext: (count) => queue(count, { kind: 'drop' }),
    pickWith: (next) => {
      faultPicker = next;
    },
  };
  return {
    faults,
    next: (action) => pendingFaults.shift() ?? faultPicker?.(action),
    pendingCount: () => pendingFaults.length,
    clear: () => {
      pendingFaults = [];
      faultPicker = undefined;
    },
  };
}

/**
 * The body of POST /__local/faults: {throttle?: n, fail?: {count,status,code,nonJsonBody?}, delay?: {count,ms}, drop?: n}.
 * Everything is validated before anything is queued, so a bad request changes nothing.
 */
export function applyFaultRequest(faults: IceFaultControls, request: unknown): void {
  if (typeof request !== 'object' || request === null) throw new TypeError('expected a JSON object');
  const { throttle, fail, delay, drop } = request as Record<string, unknown>;
  const steps: Array<() => void> = [];
  if (throttle !== undefined) {
    const count = integer(throttle, 'throttle');
    steps.push(() => faults.throttleNext(count));
  }
  if (fail !== undefined) {
    const { count, status, code, nonJsonBody } = (fail ?? {}) as Record<string, unknown>;
    if (typeof code !== 'string' || code === '') throw new TypeError('fail.code must be a non-empty string');
    const [failCount, failStatus] = [integer(count, 'fail.count'), errorStatus(status, 'fail.status')];
    steps.push(() => faults.failNext(failCount, failStatus, code, { nonJsonBody: nonJsonBody === true }));
  }
  if (delay !== undefined) {
    const { count, ms } = (delay ?? {}) as Record<string, unknown>;
    const [delayCount, delayMs] = [integer(count, 'delay.count'), integer(ms, 'delay.ms')];
    steps.push(() => faults.delayNext(delayCount, delayMs));
  }
  if (drop !== undefined) {
    const count = integer(drop, 'drop');
    steps.push(() => faults.dropNext(count));
  }
  for (const step of steps) step();
}

function integer(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}

/** An injected failure must be an HTTP error status, or the client would not treat it as one. */
function errorStatus(value: unknown, name: string): number {
  const status = integer(value, name);
  if (status < MIN_ERROR_STATUS || status > MAX_ERROR_STATUS)
    throw new RangeError(`${name} must be from ${MIN_ERROR_STATUS} to ${MAX_ERROR_STATUS}, got ${status}`);
  return status;
}
