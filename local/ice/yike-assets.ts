/**
 * The local ICE endpoint's Yike asset and precheck actions (local/ice/server.ts dispatches to them):
 * RegisterYikeAssetMediaInfo, GetYikeAssetMediaInfo and PrecheckYikeAIAppJob.
 *
 * Sources:
 * - [SDK]   ice-20201109 TypeScript SDK (aliyun/alibabacloud-typescript-sdk): RegisterYikeAssetMediaInfoRequest
 *           {FolderId, InputURL (required), MediaType (required), ProductionId} sent as query fields, answer
 *           {RequestId, MediaId}; GetYikeAssetMediaInfoResponseBody MediaInfo{MediaId, MediaBasicInfo, FileInfoList,
 *           BizData{AuditStatus, AuditBlockedLabel, FolderId, ProductionId, MediaAssetType, ...}};
 *           PrecheckYikeAIAppJob (AppId, AppParams) -> {RequestId, Status: Success|Failed, Result[{Key, ErrorCode}]}.
 * - [PRECHECK] PrecheckYikeAIAppJob API reference, https://help.aliyun.com/zh/ims/developer-reference/api-ice-2020-11-09-precheckyikeaiappjob
 *             (Status, Result[{Key, ErrorCode: ImageCheckFailed}]); docs/platform-facts.md, "ICE Yike AI app jobs".
 * Local assumptions (undocumented): AuditStatus values "Normal" / "Blocked"; a key containing "blocked" is what the
 * audit blocks (label "local-audit-blocked"); registration neither fetches nor dedupes (ICE registers asynchronously);
 * precheck fetches the image and checks its magic number, and an unknown media id or a reference in a form the app
 * does not take (acceptance.ts) fails the image check.
 */
import { randomBytes } from 'node:crypto';
import type OSS from 'ali-oss';
import type { LocalCredential } from './types';
import { LOCAL_STS_CREDENTIALS } from '../dev-fixtures';

const YIKE_ASSET_ACTIONS = {
  register: 'RegisterYikeAssetMediaInfo',
  get: 'GetYikeAssetMediaInfo',
  precheck: 'PrecheckYikeAIAppJob',
} as const;

/** Where the local ICE reads images from (as real ICE reads OSS objects in its region). */
export interface LocalImageSource {
  /** The local OSS server (http://127.0.0.1:PORT): OSS object URLs and oss:// URIs are read from it with ali-oss. */
  ossUrl: string;
  /** Default LOCAL_STS_CREDENTIALS (ICE reads with its own role in the cloud). */
  credentials?: LocalCredential;
  /** URL bases in front of a bucket (a CDN domain) -> bucket name. */
  aliases?: Record<string, string>;
}

export interface RegisteredYikeAsset {
  mediaId: string;
  inputUrl: string;
  mediaType: string;
  productionId?: string;
  folderId?: string;
  auditStatus: 'Normal' | 'Blocked';
  auditBlockedLabel: string;
  registeredAt: string;
}

interface YikeAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The request fields as server.ts reads them (query and form body merged). */
interface YikeFields {
  get(name: string): { value: string } | undefined;
}

export interface YikeAssetsOptions {
  images?: LocalImageSource;
  apps: Readonly<Record<string, { imageKey: string }>>;
  /** The image in the request's AppParams, or its refusal: the server's check, the one a submit makes (request-fields.ts). */
  imageOf: (fields: YikeFields, imageKey: string) => string;
  /** InputURL of an asset in the other media library (RegisterMediaInfo), if the id names one. */
  mediaLibraryUrl: (mediaId: string) => string | undefined;
  /** Whether the app takes a reference in this form (acceptance.ts: LOCAL_ICE_ACCEPTS); one it does not fails the image check. */
  takesReference: (reference: string) => boolean;
  errors: {
    missingParameter: (name: string) => Error;
    invalidParameter: (name: string, reason: string) => Error;
    notFound: (message: string) => Error;
  };
}

export interface LocalYikeAssets {
  handles(action: string): boolean;
  handle(action: string, fields: YikeFields, requestId: string, receivedAt: Date): Promise<YikeAnswer>;
  has(mediaId: string): boolean;
  /** The InputURL a Yike asset was registered with. */
  inputUrl(mediaId: string): string | undefined;
  assets(): RegisteredYikeAsset[];
  reset(): void;
}

const HTTP_OK = 200;
const MEDIA_ID_BYTES = 16;
const BLOCKED_KEY_MARKER = 'blocked';
const BLOCKED_LABEL = 'local-audit-blocked';
const IMAGE_CHECK_FAILED = 'ImageCheckFailed';
const MEDIA_TYPES = new Set(['image', 'video', 'audio']);
const MAX_ID_LENGTH = 128;
const OSS_OBJECT_URL = /^https?:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.oss-[a-z0-9-]+\.aliyuncs\.com\/(.+)$/;
const OSS_URI = /^oss:\/\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\/(.+)$/;
const LOOPBACK_URL = /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//;
const FETCH_TIMEOUT_MS = 5_000;

export function createLocalYikeAssets(options: YikeAssetsOptions): LocalYikeAssets {
  const assets = new Map<string, RegisteredYikeAsset>();
  const { errors } = options;

  const register = (fields: YikeFields, requestId: string, receivedAt: Date): YikeAnswer => {
    const inputUrl = fields.get('InputURL')?.value;
    if (!inputUrl) throw errors.missingParameter('InputURL');
    if (!OSS_OBJECT_URL.test(inputUrl) && !OSS_URI.test(inputUrl))
      throw errors.invalidParameter('InputURL', 'It must be an OSS object URL or oss://bucket/key.');
    const mediaType = fields.get('MediaType')?.value;
    if (!mediaType) throw errors.missingParameter('MediaType');
    if (!MEDIA_TYPES.has(mediaType)) throw errors.invalidParameter('MediaType', 'It must be image, video or audio.');
    const productionId = boundedId(fields, 'ProductionId');
    const folderId = boundedId(fields, 'FolderId');
    const blocked = objectKeyOf(inputUrl).includes(BLOCKED_KEY_MARKER);
    const asset: RegisteredYikeAsset = {
      mediaId: randomBytes(MEDIA_ID_BYTES).toString('hex'),
      inputUrl,
      mediaType,
      ...(productionId === undefined ? {} : { productionId }),
      ...(folderId === undefined ? {} : { folderId }),
      auditStatus: blocked ? 'Blocked' : 'Normal',
      auditBlockedLabel: blocked ? BLOCKED_LABEL : '',
      registeredAt: receivedAt.toISOString(),
    };
    assets.set(asset.mediaId, asset);
    return { status: HTTP_OK, body: { RequestId: requestId, MediaId: asset.mediaId } };
  };

  const get = (fields: YikeFields, requestId: string): YikeAnswer => {
    const mediaId = fields.get('MediaId')?.value;
    if (!mediaId) throw errors.missingParameter('MediaId');
    const asset = assets.get(mediaId);
    if (!asset) throw errors.notFound(`Resource not found: no Yike asset with MediaId "${mediaId}".`);
    return {
      status: HTTP_OK,
      body: {
        RequestId: requestId,
        MediaInfo: {
          MediaId: asset.mediaId,
          MediaBasicInfo: {
            MediaId: asset.mediaId,
            InputURL: asset.inputUrl,
            MediaType: asset.mediaType,
            Source: 'oss',
            Status: 'Normal',
            CreateTime: asset.registeredAt,
          },
          FileInfoList: [],
          BizData: {
            AuditStatus: asset.auditStatus,
            AuditBlockedLabel: asset.auditBlockedLabel,
            ProductionId: asset.productionId,
            FolderId: asset.folderId,
            MediaAssetType: 'image',
          },
        },
      },
    };
  };

  /** The URL behind an image reference: itself, or the InputURL of a registered (and not blocked) asset. */
  const imageUrlOf = (reference: string): string | undefined => {
    if (reference.includes('://')) return reference;
    const asset = assets.get(reference);
    if (asset) return asset.auditStatus === 'Blocked' ? undefined : asset.inputUrl;
    return options.mediaLibraryUrl(reference);
  };

  const precheck = async (fields: YikeFields, requestId: string): Promise<YikeAnswer> => {
    const appId = fields.get('AppId')?.value;
    if (!appId) throw errors.missingParameter('AppId');
    const app = options.apps[appId];
    if (!app) throw errors.invalidParameter('AppId', `No Yike AI app "${appId}" exists.`);
    const reference = options.imageOf(fields, app.imageKey);
    const url = options.takesReference(reference) ? imageUrlOf(reference) : undefined;
    const bytes = url === undefined ? undefined : await readImage(url, options.images);
    const failed = bytes === undefined || !looksLikeImage(bytes);
    return {
      status: HTTP_OK,
      body: {
        RequestId: requestId,
        Status: failed ? 'Failed' : 'Success',
        Result: failed ? [{ Key: app.imageKey, ErrorCode: IMAGE_CHECK_FAILED }] : [],
      },
    };
  };

  return {
    handles: (action) => Object.values(YIKE_ASSET_ACTIONS).includes(action as never),
    async handle(action, fields, requestId, receivedAt) {
      if (action === YIKE_ASSET_ACTIONS.register) return await register(fields, requestId, receivedAt);
      if (action === YIKE_ASSET_ACTIONS.get) return await get(fields, requestId);
      return await precheck(fields, requestId);
    },
    has: (mediaId) => assets.has(mediaId),
    inputUrl: (mediaId) => assets.get(mediaId)?.inputUrl,
    assets: () => [...assets.values()].map((asset) => ({ ...asset })),
    reset: () => assets.clear(),
  };

  function boundedId(fields: YikeFields, name: string): string | undefined {
    const value = fields.get(name)?.value;
    if (value !== undefined && value.length > MAX_ID_LENGTH)
      throw errors.invalidParameter(name, `It is ${value.length} characters long; at most ${MAX_ID_LENGTH} are accepted.`);
    return value;
  }
}

/** The decoded object key of an OSS URL or oss:// URI ('' when it is neither). */
function objectKeyOf(url: string): string {
  const match = OSS_OBJECT_URL.exec(url) ?? OSS_URI.exec(url);
  return match ? decodeKey(match[2]!) : '';
}

function decodeKey(path: string): string {
  try {
    return path.split('?')[0]!.split('/').map(decodeURIComponent).join('/');
  } catch {
    return path;
  }
}

/** Bytes of the image at `url` as ICE would fetch them, or undefined when it cannot be read. */
async function readImage(url: string, source: LocalImageSource | undefined): Promise<Buffer | undefined> {
  if (!source) return undefined;
  const object = ossObjectOf(url, source.aliases ?? {});
  if (object) return readOssObject(source, object.bucket, object.key);
  // A signed URL on the local OSS endpoint carries its own authorization.
  if (!LOOPBACK_URL.test(url)) return undefined;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    return response.ok ? Buffer.from(await response.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  }
}

function ossObjectOf(url: string, aliases: Record<string, string>): { bucket: string; key: string } | undefined {
  const match = OSS_OBJECT_URL.exec(url) ?? OSS_URI.exec(url);
  if (match) return { bucket: match[1]!, key: decodeKey(match[2]!) };
  for (const [base, bucket] of Object.entries(aliases)) {
    const prefix = base.endsWith('/') ? base : `${base}/`;
    if (url.startsWith(prefix)) return { bucket, key: decodeKey(url.slice(prefix.length)) };
  }
  return undefined;
}

const ossClients = new WeakMap<LocalImageSource, Map<string, OSS>>();

function ossClientFor(source: LocalImageSource, bucket: string): OSS {
  let clients = ossClients.get(source);
  if (!clients) {
    clients = new Map();
    ossClients.set(source, clients);
  }
  let client = clients.get(bucket);
  if (client) return client;
  const credentials = source.credentials ?? LOCAL_STS_CREDENTIALS;
  const OssConstructor = require('ali-oss') as typeof OSS;
  client = new OssConstructor({
    endpoint: source.ossUrl,
    bucket,
    region: 'oss-cn-shanghai',
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    stsToken: credentials.securityToken,
    refreshSTSTokenInterval: 300_000,
    timeout: FETCH_TIMEOUT_MS,
  } as OSS.Options);
  clients.set(bucket, client);
  return client;
}

async function readOssObject(source: LocalImageSource, bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    return Buffer.from((await ossClientFor(source, bucket).get(key)).content as Buffer);
  } catch {
    return undefined;
  }
}

/** JPEG, PNG, GIF, WebP or BMP by their magic numbers. */
export function looksLikeImage(bytes: Buffer): boolean {
  const startsWith = (signature: number[], at = 0) => signature.every((byte, index) => bytes[at + index] === byte);
  return (
    startsWith([0xff, 0xd8, 0xff]) ||
    startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) ||
    startsWith([0x47, 0x49, 0x46, 0x38]) ||
    (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) ||
    startsWith([0x42, 0x4d])
  );
}
