import { createHash } from 'node:crypto';
import { isNotFound, YikeError } from '../../runtime/errors';
import type { Logger } from '../../runtime/logger';
import type { Ice, RecordStoreFor, YikeAssetAudit } from '../ports';

/**
 * IMAGE_URL_MODE=yike-asset: each object version (bucket + key + eTag) is registered with
 * RegisterYikeAssetMediaInfo once; its MediaId is kept in an OSS record and reused. The audit is read with
 * GetYikeAssetMediaInfo on every use (it may finish after the registration), and a blocked asset is refused.
 */
interface YikeAssetRecord {
  schemaVersion: 1;
  mediaId: string;
  inputUrl: string;
  bucket: string;
  key: string;
  eTag: string;
  registeredAt: string;
  registerRequestId: string;
}

export interface YikeAssetReferenceDependencies {
  ice: Pick<Ice, 'registerYikeAsset' | 'getYikeAssetAudit'>;
  recordStore: RecordStoreFor;
  recordsPrefix: string;
  recordsBucket?: string;
  logger?: Logger;
  now?: () => Date;
}

const MAX_OSS_KEY_BYTES = 1023;

export function yikeAssetRecordKey(prefix: string, object: { bucket: string; key: string; eTag: string }): string {
  const eTag = object.eTag.replace(/"/g, '');
  const direct = `${prefix}yike-assets/${object.bucket}/${object.key}@${eTag}.json`;
  if (Buffer.byteLength(direct) <= MAX_OSS_KEY_BYTES) return direct;
  return `${prefix}yike-assets/${object.bucket}/sha256-${createHash('sha256').update(object.key).digest('hex')}@${eTag}.json`;
}

export async function resolveYikeAssetId(
  object: { bucket: string; key: string; eTag: string; inputUrl: string; productionId?: string; folderId?: string },
  deps: YikeAssetReferenceDependencies,
): Promise<string> {
  const store = deps.recordStore(deps.recordsBucket ?? object.bucket);
  const recordKey = yikeAssetRecordKey(deps.recordsPrefix, object);
  const known = await store.get<YikeAssetRecord>(recordKey);
  if (known) {
    try {
      return await auditedMediaId(known.mediaId, object, deps);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // ICE no longer knows the asset (deleted with DeleteYikeAssetMediaInfos): forget it and register again.
      deps.logger?.warn('yike asset vanished; registering again', { mediaId: known.mediaId, recordKey });
      await store.delete(recordKey);
    }
  }
  const registered = await deps.ice.registerYikeAsset({ inputUrl: object.inputUrl, productionId: object.productionId, folderId: object.folderId });
  const fresh: YikeAssetRecord = {
    schemaVersion: 1,
    mediaId: registered.mediaId,
    inputUrl: object.inputUrl,
    bucket: object.bucket,
    key: object.key,
    eTag: object.eTag,
    registeredAt: (deps.now ?? (() => new Date()))().toISOString(),
    registerRequestId: registered.requestId,
  };
  // Two invocations may register the same version at once: the first record wins and both use its MediaId.
  const record = (await store.createIfAbsent(recordKey, fresh)) ? fresh : ((await store.get<YikeAssetRecord>(recordKey)) ?? fresh);
  deps.logger?.info('yike asset registered', { mediaId: record.mediaId, recordKey });
  return auditedMediaId(record.mediaId, object, deps);
}

async function auditedMediaId(mediaId: string, object: { bucket: string; key: string }, deps: YikeAssetReferenceDependencies): Promise<string> {
  const audit = await deps.ice.getYikeAssetAudit(mediaId);
  deps.logger?.debug('yike asset audit', { mediaId, auditStatus: audit.auditStatus, auditBlockedLabel: audit.auditBlockedLabel });
  assertNotBlocked(audit, `oss://${object.bucket}/${object.key}`);
  return mediaId;
}

/** IMAGE_BLOCKED (422, not retryable) when the asset's content audit blocked it. */
function assertNotBlocked(audit: YikeAssetAudit, source: string): void {
  if (!audit.auditBlockedLabel) return;
  throw new YikeError('IMAGE_BLOCKED', `${source}: ICE's content audit blocked Yike asset ${audit.mediaId} (label "${audit.auditBlockedLabel}")`, {
    statusCode: 422,
    details: { mediaId: audit.mediaId, auditStatus: audit.auditStatus, auditBlockedLabel: audit.auditBlockedLabel },
  });
}
