import { execFile } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startIceServer, type LocalIceServer } from '../../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../../local/oss/server';
import { asFcPayload, loadEvent } from '../../helpers/fixtures';
import { fcContext, LOCAL_CREDENTIALS, tempDir, TINY_PNG, localOssClient } from '../../helpers/local-cloud';

/**
 * The function bundles replace two dependencies' load-time weight (scripts/build.mjs): @alicloud/credentials by
 * scripts/stubs/alicloud-credentials.cjs (explicit keys only) and xml2js, which tea-xml requires at load, by a
 * stand-in that loads the real package from dist/<function>/xml2js.js on first use.
 */
const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist');
const FUNCTIONS = ['http-submit', 'oss-submit', 'job-watcher'];
const CLIENT_JS = join(ROOT, 'node_modules', '@alicloud', 'openapi-client', 'dist', 'client.js');
const GATEWAY_SPI_JS = join(ROOT, 'node_modules', '@alicloud', 'gateway-spi', 'dist', 'client.js');

const stub = require('../../../scripts/stubs/alicloud-credentials.cjs') as typeof import('@alicloud/credentials');
const real = require('@alicloud/credentials') as typeof import('@alicloud/credentials');

type CredentialsModule = typeof import('@alicloud/credentials');

/** Everything openapi-client reads from a Credential it built, in the order it may read it. */
async function readBack(module: CredentialsModule, config: Record<string, string>) {
  // As openapi-client 0.4.x builds it (dist/client.js, constructor): a Config, then the token set on it.
  const credentialConfig = new module.Config({ accessKeyId: config.accessKeyId, type: config.type, accessKeySecret: config.accessKeySecret });
  credentialConfig.securityToken = config.securityToken;
  const credential = new module.default(credentialConfig);
  return {
    model: { ...(await credential.getCredential()) },
    accessKeyId: await credential.getAccessKeyId(),
    accessKeySecret: await credential.getAccessKeySecret(),
    securityToken: await credential.getSecurityToken(),
    bearerToken: credential.getBearerToken(),
    type: credential.getType(),
  };
}

const run = promisify(execFile);

function inputsOf(name: string, file: string): string[] {
  const meta = JSON.parse(readFileSync(join(DIST, '.meta', name, `${file}.json`), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  return Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs));
}

describe('the dependency stand-ins in the function bundles (scripts/stubs)', () => {
  it.each([
    ['sts', { type: 'sts', ...LOCAL_CREDENTIALS }],
    ['access_key', { type: 'access_key', accessKeyId: LOCAL_CREDENTIALS.accessKeyId, accessKeySecret: LOCAL_CREDENTIALS.accessKeySecret }],
  ])('gives openapi-client exactly what @alicloud/credentials gives it for %s keys', async (_type, config) => {
    // Arrange
    const expected = await readBack(real, config);

    // Act
    const actual = await readBack(stub, config);

    // Assert
    expect(actual).toEqual(expected);
    expect(actual.model.providerName).toBe(config.type === 'sts' ? 'static_sts' : 'static_ak');
  });

  it('implements every member that openapi-client and gateway-spi use, and they use no other', () => {
    // Arrange
    const client = readFileSync(CLIENT_JS, 'utf8');
    const spi = readFileSync(GATEWAY_SPI_JS, 'utf8');

    // Act
    const credentialMethods = new Set([...client.matchAll(/this\._credential\.(\w+)\(/g)].map((match) => match[1]!));
    const moduleMembers = new Set([...`${client}\n${spi}`.matchAll(/(?:credentials_1|\$Credential)\.(\w+)/g)].map((match) => match[1]!));

    // Assert
    expect([...credentialMethods].sort()).toEqual(['getAccessKeyId', 'getAccessKeySecret', 'getBearerToken', 'getCredential', 'getSecurityToken', 'getType']);
    expect([...moduleMembers].sort()).toEqual(['Config', 'default']);
    for (const member of moduleMembers) expect(typeof (stub as unknown as Record<string, unknown>)[member]).toBe('function');
    for (const method of credentialMethods) expect(typeof (stub.default.prototype as unknown as Record<string, unknown>)[method]).toBe('function');
  });

  it.each([
    ['no config (the default provider chain)', null, /not bundled with this function.*default credentials provider chain/],
    ['an ECS RAM role', { type: 'ecs_ram_role', roleName: 'yike' }, /not bundled with this function.*credential type "ecs_ram_role"/],
    ['a bearer token', { type: 'bearer', bearerToken: 'token' }, /not bundled with this function.*credential type "bearer"/],
    ['STS keys without a token', { type: 'sts', accessKeyId: 'id', accessKeySecret: 'secret' }, /^the security token is empty$/],
  ])('refuses %s with an error that says why', (_what, config, message) => {
    // Arrange
    const build = () => new stub.default(config === null ? null : new stub.Config(config));

    // Act, Assert
    expect(build).toThrow(message);
  });

  it.each(FUNCTIONS)('replaces @alicloud/credentials in every file of dist/%s, and keeps xml2js out of its index.js', (name) => {
    // Arrange
    const files = readdirSync(join(DIST, name)).filter((file) => file.endsWith('.js'));

    // Act
    const everything = files.flatMap((file) => inputsOf(name, file));
    const atStart = inputsOf(name, 'index.js');

    // Assert
    expect(everything.filter((input) => input.includes('node_modules/@alicloud/credentials/'))).toEqual([]);
    expect(atStart).toContain('scripts/stubs/alicloud-credentials.cjs');
    expect(atStart.filter((input) => /node_modules\/(xml2js|sax|xmlbuilder)\//.test(input))).toEqual([]);
    expect(inputsOf(name, 'xml2js.js').some((input) => input.startsWith('node_modules/xml2js/'))).toBe(true);
  });

  it.each(FUNCTIONS)('keeps debug out of dist/%s/index.js, in a debug.js beside it', (name) => {
    // Arrange
    const atStart = inputsOf(name, 'index.js');

    // Act
    const onFirstUse = inputsOf(name, 'debug.js');

    // Assert
    expect(atStart.filter((input) => /node_modules\/(debug|supports-color|ms)\//.test(input))).toEqual([]);
    expect(atStart).toContain('scripts/stubs/debug-on-first-use.cjs');
    expect(onFirstUse).toContain('node_modules/debug/src/node.js');
  });

  it("gives httpx disabled loggers without DEBUG, and the real package's with it", async () => {
    // Arrange
    const stubFile = join(ROOT, 'scripts', 'stubs', 'debug-on-first-use.cjs');
    // A fresh process each: the real package reads DEBUG once, when it loads.
    const probe = `const log = require(${JSON.stringify(stubFile)})('httpx:header'); process.stdout.write(JSON.stringify({ enabled: log.enabled, namespace: log.namespace, realLoaded: Object.keys(require.cache).some((file) => file.includes('/node_modules/debug/')) }))`;
    const inProcess = async (env: Record<string, string>) =>
      JSON.parse((await run(process.execPath, ['-e', probe], { env: { PATH: process.env.PATH, ...env }, cwd: ROOT })).stdout) as unknown;

    // Act
    const off = await inProcess({});
    const on = await inProcess({ DEBUG: 'httpx:*' });

    // Assert
    expect(off).toEqual({ enabled: false, namespace: 'httpx:header', realLoaded: false });
    expect(on).toEqual({ enabled: true, namespace: 'httpx:header', realLoaded: true });
  });

  it('hands tea-xml the real xml2js classes on first use', () => {
    // Arrange
    const onFirstUse = require('../../../scripts/stubs/xml2js-on-first-use.cjs') as typeof import('xml2js');
    const bundled = require(join(DIST, 'http-submit', 'xml2js.js')) as typeof import('xml2js');
    let parsed: unknown;

    // Act
    new bundled.Parser({ explicitArray: false }).parseString('<Error><Code>Throttling</Code></Error>', (error: unknown, output: unknown) => {
      if (error) throw error;
      parsed = output;
    });

    // Assert
    expect(onFirstUse.Parser).toBe((require('xml2js') as typeof import('xml2js')).Parser);
    expect(parsed).toEqual({ Error: { Code: 'Throttling' } });
    expect(new bundled.Builder({ headless: true }).buildObject({ a: 'b' })).toBe('<a>b</a>');
  });
});

/** Forwards every request to ICE unchanged (same Host, so the signature still holds) and keeps its headers. */
async function recordingProxy(target: string): Promise<{ url: string; headers: IncomingHttpHeaders[]; server: Server }> {
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    headers.push(req.headers);
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers, server };
}

const RUNNER = `
const [entry, event, context] = process.argv.slice(1);
const bundle = require(entry);
bundle.handler(Buffer.from(event, 'base64'), JSON.parse(context)).then(
  (result) => process.stdout.write(JSON.stringify({ result, xml2jsLoaded: Object.keys(require.cache).some((file) => file.endsWith('xml2js.js')) })),
  (error) => { process.stderr.write(String(error && error.stack)); process.exitCode = 1; },
);
`;

describe('a bundled function signs its ICE calls through the stand-in', () => {
  const BUCKET = 'yike-uploads';
  let ice: LocalIceServer;
  let oss: LocalOssServer;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    dir = tempDir('bundle-stubs-');
    oss = await startOssServer({ dataDir: dir.path, buckets: [BUCKET] });
    ice = await startIceServer({ images: { ossUrl: oss.url } });
    proxy = await recordingProxy(ice.url);
    const client = localOssClient(oss.url, BUCKET);
    await client.put('uploads/female/portrait-001.jpg', TINY_PNG, { headers: { 'Content-Type': 'image/png' } });
  });
  afterAll(async () => {
    await Promise.all([ice.close(), oss.close(), new Promise((resolve) => proxy.server.close(resolve))]);
    dir.remove();
  });

  it('submits POST /jobs from dist/http-submit with the STS token and the provider name the official package sends', async () => {
    // Arrange
    const env = {
      PATH: process.env.PATH,
      LOG_LEVEL: 'error',
      ICE_ENDPOINT: proxy.url,
      IMAGE_URL_MODE: 'public',
      OSS_ENDPOINT: oss.localhostUrl,
      ALLOWED_BUCKETS: BUCKET,
      AUTH_TOKENS: 'example-token',
    };
    const event = asFcPayload(loadEvent('fc3-http-post-jobs')).toString('base64');

    // Act
    const { stdout } = await run(process.execPath, ['-e', RUNNER, join(DIST, 'http-submit', 'index.js'), event, JSON.stringify(fcContext())], {
      env,
      timeout: 45_000,
    });
    const { result, xml2jsLoaded } = JSON.parse(stdout) as { result: { statusCode: number; body: string }; xml2jsLoaded: boolean };

    // Assert
    const jobs = ice.jobs();
    expect(result.statusCode).toBe(202);
    expect(JSON.parse(result.body)).toEqual({ jobId: jobs[0]!.jobId, requestId: jobs[0]!.requestId, appId: 'sys-ao-smith-1' });
    expect(jobs).toHaveLength(1);
    // The local ICE verified each ACS3 signature and the token: every call was accepted.
    expect(ice.calls().map((call) => [call.action, call.status])).toEqual([
      ['PrecheckYikeAIAppJob', 200],
      ['SubmitYikeAIAppJob', 200],
    ]);
    expect(
      proxy.headers.map((headers) => [
        headers['x-acs-credentials-provider'],
        headers['x-acs-security-token'],
        String(headers.authorization).startsWith(`ACS3-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.accessKeyId},`),
      ]),
    ).toEqual([
      ['static_sts', LOCAL_CREDENTIALS.securityToken, true],
      ['static_sts', LOCAL_CREDENTIALS.securityToken, true],
    ]);
    expect(xml2jsLoaded).toBe(false);
    expect(existsSync(join(DIST, 'http-submit', 'xml2js.js'))).toBe(true);
  });
});
