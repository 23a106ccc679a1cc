/**
 * What the local FC gateway suites share: gateways started per test (closeGateways after each) with a handler that
 * echoes the event it received, readers of that echo, and a raw-socket client for header lines fetch would merge.
 */
import { connect } from 'node:net';
import { startFcGateway, type FcGatewayOptions, type FcHandler, type LocalFcGateway } from '../../../local/fc/gateway';

export const CREDENTIALS = { accessKeyId: 'STS.NTexampleAccessKeyId', accessKeySecret: 'exampleAccessKeySecret', securityToken: 'CAIS-example-security-token' };
export const REQUEST_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
/** The first bytes of a PNG file, followed by bytes that are not valid UTF-8. */
export const PNG_BYTES = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]);

/** Answers with the raw event it received, and says whether it arrived as a Buffer. */
export const echoHandler: FcHandler = async (event) => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'X-Event-Type': Buffer.isBuffer(event) ? 'buffer' : typeof event },
  isBase64Encoded: false,
  body: Buffer.isBuffer(event) ? event.toString('utf8') : JSON.stringify(event),
});

const running: LocalFcGateway[] = [];

export async function gateway(overrides: Partial<FcGatewayOptions> = {}): Promise<LocalFcGateway> {
  const started = await startFcGateway({ handler: echoHandler, credentials: CREDENTIALS, ...overrides });
  running.push(started);
  return started;
}

/** For afterEach: closes every gateway gateway() started. */
export async function closeGateways(): Promise<void> {
  await Promise.all(running.splice(0).map((started) => started.close()));
}

export async function echoedEvent(response: Response): Promise<any> {
  expect(response.status).toBe(200);
  return response.json();
}

/** The set of key paths of a JSON value, e.g. "requestContext.http.method". */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    // headers and queryParameters hold request data, not struct fields.
    return ['headers', 'queryParameters'].includes(path) ? [path] : [path, ...keyPaths(child, path)];
  });
}

/** Sends header lines exactly as given (fetch would merge repeated names into one line) and returns the JSON body. */
export function sendRawHeaders(port: number, headerLines: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(['GET / HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      const response = Buffer.concat(chunks).toString('utf8');
      resolve(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)));
    });
    socket.on('error', reject);
  });
}
