import { channel } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * httpx (the HTTP layer under @alicloud/openapi-client) starts a read timer on each request's socket and clears it
 * only when httpx itself reads the body; openapi-client reads the body another way (tea-util), so the timer of
 * every finished call runs its whole read timeout and keeps the request, its socket and the response
 * reachable until then. Measured (`npm run bench`, 10,000 warm POST /jobs): ~2,000 finished requests held at a
 * time, ~20 MiB of heap and ~20 MiB of RSS, growing with the request rate. Once the request has closed (its
 * connection closed: writes send `Connection: close`; or, for a kept-alive read, its answer ended and the socket went
 * back to the pool: Node emits the request's `close` before the socket's `free`, so before it serves another call),
 * no read can hang on it any more, so the timer is cleared then. Node's `http.client.request.start` diagnostics
 * channel sees every request without patching anything.
 */
const READ_TIMER = 'TIMER::READ_TIMER';
/** Marks the (process-wide) channel once: a second copy of this module (another bundle, a test file) adds nothing. */
const SUBSCRIBED = Symbol.for('yike-fc.openapi-read-timers');

function clearReadTimer(socket: object | null | undefined): void {
  if (!socket) return;
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    if (symbol.description !== READ_TIMER) continue;
    const record = socket as Record<symbol, unknown>;
    clearTimeout(record[symbol] as NodeJS.Timeout | undefined);
    record[symbol] = null;
  }
}

export function releaseReadTimersOnClose(): void {
  const requests = channel('http.client.request.start') as ReturnType<typeof channel> & { [SUBSCRIBED]?: true };
  if (requests[SUBSCRIBED]) return;
  requests[SUBSCRIBED] = true;
  requests.subscribe((message) => {
    const { request } = message as { request: ClientRequest };
    request.once('close', () => clearReadTimer(request.socket));
  });
}
