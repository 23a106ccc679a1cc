import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { localTls } from './tls';

/** Every stand-in binds loopback only: nothing here is reachable from another host. */
export const LOOPBACK_HOST = '127.0.0.1';
const LISTEN_BACKLOG = 4096;

export interface LoopbackServer {
  server: Server;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Connections accepted so far, and how many of them were TLS (each one a full handshake: no session resumption here). */
  connections(): { total: number; tls: number };
  close(): Promise<void>;
}

/** The first byte of a TLS connection: a handshake record (RFC 8446 5.1, ContentType handshake = 22). */
const TLS_HANDSHAKE_RECORD = 22;

/**
 * Starts `serve` on 127.0.0.1. A request whose handler rejects has no one left to answer (a client that went
 * away mid-body, or a bug): it is reported through `onAbandoned` and its socket destroyed.
 */
export async function listenOnLoopback(
  serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { port?: number; onAbandoned: (error: unknown) => void; tls?: boolean },
): Promise<LoopbackServer> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    serve(req, res).catch((error: unknown) => {
      options.onAbandoned(error);
      res.destroy();
    });
  };
  const server = createServer(handle);
  const counts = { total: 0, tls: 0 };
  let listener: Server | NetServer = server;
  let secure: Server | undefined;
  const sockets = new Set<Socket>();
  if (options.tls) {
    // One port for both: http://127.0.0.1:PORT and https://127.0.0.1:PORT (the local CA, local/tls.ts), told apart by
    // the connection's first byte, so an http:// URL upgraded to https:// reaches the same stand-in.
    const { key, cert } = await localTls();
    secure = createHttpsServer({ key, cert }, handle);
    secure.on('secureConnection', () => counts.tls++);
    const tlsServer = secure;
    listener = createNetServer((socket: Socket) => {
      counts.total++;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      const sniff = () => {
        const first = socket.read(1) as Buffer | null;
        if (first === null) {
          socket.once('readable', sniff);
          return;
        }
        socket.unshift(first);
        (first[0] === TLS_HANDSHAKE_RECORD ? tlsServer : server).emit('connection', socket);
      };
      socket.once('readable', sniff);
      socket.on('error', () => undefined);
    });
  } else {
    server.on('connection', () => counts.total++);
  }
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    // A deep accept queue, like a cloud front end's: bursts of thousands of connections (load tests) are queued, not reset.
    listener.listen(options.port ?? 0, LOOPBACK_HOST, LISTEN_BACKLOG, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const { port } = listener.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://${LOOPBACK_HOST}:${port}`,
    connections: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        listener.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive connections (the SDKs and fetch keep them) would otherwise hold close() open.
        server.closeAllConnections();
        secure?.closeAllConnections();
        // Raw connections too: a TLS connection's socket outlives its TLSSocket's close by the keep-alive timeout.
        for (const socket of sockets) socket.destroy();
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

/** The path as sent, still percent-encoded: what the client signed. */
export function rawPath(target: string): string {
  const queryStart = target.indexOf('?');
  return (queryStart === -1 ? target : target.slice(0, queryStart)) || '/';
}

/** A query string as a record: a repeated name gives its values in order. */
export function queryRecord(params: URLSearchParams): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    record[name] = values.length === 1 ? values[0]! : values;
  }
  return record;
}
