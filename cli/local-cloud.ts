import { ConfigError, YikeError } from '../shared/runtime/errors';
import type { Config } from '../shared/runtime/config';

/**
 * `npm start`'s local cloud as every tool sees it, in one place: the ports it listens on (each moved by its LOCAL_*
 * variable), the endpoints they make, the credentials its stand-ins accept, and the rule that a local command never
 * sends anything to the real cloud. `npm start` (local/start.ts) builds what it prints from here; `npm run upload` and
 * `yike-doctor --local` read the same ports, so each printed command works as printed, with moved ports too.
 */

/** Each stand-in's port, the variable that moves it, and what listens there. */
export const LOCAL_PORTS = {
  fc: { variable: 'LOCAL_FC_PORT', port: 9000, what: 'the FC HTTP gateway (http-submit, the page)' },
  ice: { variable: 'LOCAL_ICE_PORT', port: 9100, what: 'the ICE endpoint' },
  oss: { variable: 'LOCAL_OSS_PORT', port: 9200, what: 'the OSS endpoint' },
  fcApi: { variable: 'LOCAL_FC_API_PORT', port: 9300, what: 'the FC API (InvokeFunction)' },
} as const;
export type LocalService = keyof typeof LOCAL_PORTS;
export type LocalPorts = Record<LocalService, number>;

/** Every other variable the local cloud reads (local/), so a one-letter typo of one is caught like a function's. */
export const LOCAL_VARIABLES: readonly string[] = [
  ...Object.values(LOCAL_PORTS).map((entry) => entry.variable),
  'LOCAL_DATA_DIR',
  'LOCAL_ICE_JOB_SECONDS',
  'LOCAL_WATCHER_SECONDS',
  'LOCAL_ICE_ACCEPTS',
  'LOCAL_ICE_FORBIDDEN_ACTIONS',
  'LOCAL_OSS_CORS',
  'LOCAL_TLS_DIR',
];

/** The local bucket: uploads under `uploads/` trigger oss-submit. */
export const LOCAL_BUCKET = 'yike-uploads';
/** The functions' APP_ROUTES on the local cloud (s.yaml sets the same): `uploads/<app>/` per app, nothing else. */
export const LOCAL_APP_ROUTES = '{"uploads/female/":"female","uploads/male/":"male"}';

/** The STS triple every local stand-in accepts and every local tool signs with (FC's context.credentials shape). Made up: it grants nothing anywhere else. */
export const LOCAL_STS_CREDENTIALS = Object.freeze({
  accessKeyId: 'STS.LocalDevAccessKeyId',
  accessKeySecret: 'local-dev-secret',
  securityToken: 'local-dev-security-token',
});

/** The ports from LOCAL_*_PORT (0: any free port, for tests), else the defaults; a bad value names its variable. */
export function localPorts(env: NodeJS.ProcessEnv): LocalPorts {
  const entries = Object.entries(LOCAL_PORTS).map(([service, { variable, port }]) => {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') return [service, port] as const;
    const value = Number(text);
    if (!/^\d{1,5}$/.test(text) || value > 65_535)
      throw new ConfigError(`Invalid configuration: ${variable}: must be a port from 0 to 65535`, [{ variable, message: 'must be a port' }]);
    return [service, value] as const;
  });
  return Object.fromEntries(entries) as LocalPorts;
}

export interface LocalEndpoints {
  /** http-submit behind the FC HTTP gateway (and the page at `/`). */
  gateway: string;
  ice: string;
  oss: string;
  /** The OSS endpoint as the tools address it: `localhost` selects path-style, which ali-oss needs to sign URLs. */
  ossPathStyle: string;
  fcApi: string;
}

export function localEndpoints(ports: LocalPorts): LocalEndpoints {
  const loopback = (port: number) => `http://127.0.0.1:${port}`;
  return {
    gateway: loopback(ports.fc),
    ice: loopback(ports.ice),
    oss: loopback(ports.oss),
    ossPathStyle: `http://localhost:${ports.oss}`,
    fcApi: loopback(ports.fcApi),
  };
}

/**
 * `VAR=value … command` for the ports a command reads from LOCAL_*_PORT (the upload script, `yike-doctor --local`):
 * only those the local cloud moved, so with the default ports the command is printed bare.
 */
export function withLocalPorts(ports: LocalPorts, services: readonly LocalService[], command: string): string {
  const moved = services
    .filter((service) => ports[service] !== LOCAL_PORTS[service].port)
    .map((service) => `${LOCAL_PORTS[service].variable}=${ports[service]}`);
  return [...moved, command].join(' ');
}

/** True when the credentials in `env` are the local cloud's made-up ones: whatever runs with them is a local command. */
function hasLocalCredentials(env: NodeJS.ProcessEnv): boolean {
  return env.ALIBABA_CLOUD_ACCESS_KEY_ID?.trim() === LOCAL_STS_CREDENTIALS.accessKeyId;
}

const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;
const REAL_CLOUD_HOST = /(^|\.)aliyuncs\.com$/i;

export type CloudService = 'ice' | 'oss' | 'fc';

/** The hosts a tool with this configuration calls for each service, with the variable that sets each. */
function targets(config: Pick<Config, 'ice' | 'oss' | 'fc'>, uses: readonly CloudService[], bucket?: string): { variable: string; url: string }[] {
  const all: Record<CloudService, { variable: string; url: string } | undefined> = {
    ice: { variable: 'ICE_ENDPOINT', url: `${config.ice.protocol}://${config.ice.endpoint}` },
    // Unset: ali-oss calls the region's public endpoint, virtual-hosted by the bucket.
    oss: { variable: 'OSS_ENDPOINT', url: config.oss.endpoint ?? `https://${bucket ? `${bucket}.` : ''}oss-${config.oss.region}.aliyuncs.com` },
    fc: config.fc.endpoint ? { variable: 'FC_ENDPOINT', url: `${config.fc.protocol}://${config.fc.endpoint}` } : undefined,
  };
  return uses.flatMap((service) => (all[service] ? [all[service]] : []));
}

const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
};

/** A command is local when it says so (`--local`, the upload script), runs with the local credentials, or is given a loopback endpoint. */
function isLocalCommand(config: Pick<Config, 'ice' | 'oss' | 'fc'>, env: NodeJS.ProcessEnv, declared = false): boolean {
  if (declared || hasLocalCredentials(env)) return true;
  return targets(config, ['ice', 'oss', 'fc']).some((target) => env[target.variable] !== undefined && LOOPBACK_HOST.test(hostOf(target.url)));
}

/**
 * A local command sends nothing to the real cloud: an endpoint left to its default (a typo such as OSS_ENDPIONT, a
 * variable not exported) would reach `*.aliyuncs.com`, with real credentials a paid job, so it stops before any call.
 * `uses`: the services this command calls (an endpoint it never calls is no risk).
 */
export function refuseRealCloud(
  tool: string,
  config: Pick<Config, 'ice' | 'oss' | 'fc'>,
  options: { uses: readonly CloudService[]; bucket?: string; why: string },
): void {
  const real = targets(config, options.uses, options.bucket).filter((target) => REAL_CLOUD_HOST.test(hostOf(target.url)));
  if (real.length === 0) return;
  const named = real.map((target) => `${target.variable} is ${hostOf(target.url)}`).join(', ');
  throw new YikeError(
    'LOCAL_ONLY',
    `${tool} ${options.why}, so it sends nothing to the real cloud, but ${named}: set ${real.map((target) => target.variable).join(' and ')} to the local cloud's (npm start prints them)`,
  );
}

/** The guard every tool runs before its first call: on a local command, nothing may go to the real cloud. */
export function guardLocalCommand(
  tool: string,
  config: Pick<Config, 'ice' | 'oss' | 'fc'>,
  env: NodeJS.ProcessEnv,
  options: { uses: readonly CloudService[]; bucket?: string; declared?: string },
): void {
  if (!isLocalCommand(config, env, options.declared !== undefined)) return;
  const why = options.declared ?? (hasLocalCredentials(env) ? "runs with the local cloud's credentials" : 'is given a local endpoint');
  refuseRealCloud(tool, config, { uses: options.uses, bucket: options.bucket, why });
}
