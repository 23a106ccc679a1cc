import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Every stand-in binds loopback only: nothing here is reachable from another host. */
export const LOOPBACK_HOST = '127.0.0.1';
const LISTEN_BACKLOG = 4096;

export interface LoopbackServer {
  server: Server;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts `serve` on 127.0.0.1. A request whose handler rejects has no one left to answer (a client that went
 * away mid-body, or a bug): it is reported through `onAbandoned` and its socket destroyed.
 */
export async function listenOnLoopback(
  serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { port?: number; onAbandoned: (error: unknown) => void },
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      options.onAbandoned(error);
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue, like a cloud front end's: bursts of thousands of connections (load tests) are queued, not reset.
    server.listen(options.port ?? 0, LOOPBACK_HOST, LISTEN_BACKLOG, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://${LOOPBACK_HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (the SDKs and fetch keep them) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

/**
 * A held request (oss/faults.ts `delay`) is received in full first and processed afterwards, as a server that got
 * the whole request acts on it even when its client has stopped waiting: the body is read at once and handed to
 * whoever reads it later (readBody, the OSS object store), since a closed connection's request can no longer be read.
 */
const heldBodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

export function holdBody(req: IncomingMessage): void {
  if (!heldBodies.has(req)) heldBodies.set(req, readBody(req, Number.POSITIVE_INFINITY) as Promise<Buffer>);
}

/** The body holdBody received, if it did. */
export function heldBody(req: IncomingMessage): Promise<Buffer> | undefined {
  return heldBodies.get(req);
}

/** The whole request body, or undefined when it is larger than maxBytes (the rest is drained, not kept). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const held = heldBodies.get(req);
  if (held) return held.then((body) => (body.length > maxBytes ? undefined : body));
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else chunks = [];
    });
    req.on('end', () => resolve(size > maxBytes ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the connection before the body ended'));
    });
  });
}
