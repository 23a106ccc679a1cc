import * as z from '../../runtime/zod';
import { YikeError } from '../../runtime/errors';
import { parseBody, type IceClient } from './client';

/**
 * ICE 2020-11-09 Yike asset and precheck actions. Request shapes follow the official ice-20201109 TypeScript SDK
 * (aliyun/alibabacloud-typescript-sdk, ice-20201109/src/client.ts): RegisterYikeAssetMediaInfo sends FolderId,
 * InputURL, MediaType, ProductionId as query fields; GetYikeAssetMediaInfo (MediaId) and PrecheckYikeAIAppJob
 * (AppId, AppParams) follow the same query-field pattern (confirmed in the Yike 2026-03-19 SDK's copies of them).
 */
export const YIKE_ASSET_ACTIONS = {
  register: 'RegisterYikeAssetMediaInfo',
  get: 'GetYikeAssetMediaInfo',
  precheck: 'PrecheckYikeAIAppJob',
} as const;

/** RegisterYikeAssetMediaInfoResponseBody: {RequestId, MediaId}. */
const registerResponseSchema = z.object({ RequestId: z.string().check(z.minLength(1)), MediaId: z.string().check(z.minLength(1)) });

/** GetYikeAssetMediaInfoResponseBody: MediaInfo{MediaId, MediaBasicInfo, FileInfoList, BizData{AuditStatus, AuditBlockedLabel, ...}}. */
const getResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  MediaInfo: z.looseObject({
    MediaId: z.optional(z.string()),
    MediaBasicInfo: z.optional(z.looseObject({ Status: z.optional(z.string()), InputURL: z.optional(z.string()) })),
    BizData: z.optional(z.looseObject({ AuditStatus: z.optional(z.string()), AuditBlockedLabel: z.optional(z.string()) })),
  }),
});

/** PrecheckYikeAIAppJobResponseBody: {RequestId, Status: Success|Failed, Result[{Key, ErrorCode}]}. */
const precheckResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  Status: z.string().check(z.minLength(1)),
  Result: z.optional(z.array(z.looseObject({ Key: z.optional(z.string()), ErrorCode: z.optional(z.string()) }))),
});

export interface YikeAssetAudit {
  mediaId: string;
  /** Passed through as ICE reports it; its values are undocumented (see README, IMAGE_URL_MODE=yike-asset). */
  auditStatus?: string;
  /** Non-empty when the content audit blocked the asset. */
  auditBlockedLabel?: string;
}

export interface PrecheckIssue {
  key: string;
  errorCode: string;
}

type Invoker = Pick<IceClient, 'invoke'>;

export async function registerYikeAsset(
  ice: Invoker,
  input: { inputUrl: string; productionId?: string; folderId?: string },
): Promise<{ mediaId: string; requestId: string }> {
  const query: Record<string, string> = { InputURL: input.inputUrl, MediaType: 'image' };
  if (input.productionId) query.ProductionId = input.productionId;
  if (input.folderId) query.FolderId = input.folderId;
  // Retried like a read: a resend after a lost answer can at worst register a second (free) asset, never a job.
  const body = parseBody(registerResponseSchema, await ice.invoke(YIKE_ASSET_ACTIONS.register, { query }, true), YIKE_ASSET_ACTIONS.register);
  return { mediaId: body.MediaId, requestId: body.RequestId };
}

export async function getYikeAssetAudit(ice: Invoker, mediaId: string): Promise<YikeAssetAudit> {
  const body = parseBody(getResponseSchema, await ice.invoke(YIKE_ASSET_ACTIONS.get, { query: { MediaId: mediaId } }, true), YIKE_ASSET_ACTIONS.get);
  const bizData = body.MediaInfo.BizData;
  return { mediaId, auditStatus: bizData?.AuditStatus || undefined, auditBlockedLabel: bizData?.AuditBlockedLabel?.trim() || undefined };
}

/** IMAGE_BLOCKED (422, not retryable) when the asset's content audit blocked it. */
export function assertNotBlocked(audit: YikeAssetAudit, source: string): void {
  if (!audit.auditBlockedLabel) return;
  throw new YikeError('IMAGE_BLOCKED', `${source}: ICE's content audit blocked Yike asset ${audit.mediaId} (label "${audit.auditBlockedLabel}")`, {
    statusCode: 422,
    details: { mediaId: audit.mediaId, auditStatus: audit.auditStatus, auditBlockedLabel: audit.auditBlockedLabel },
  });
}

/**
 * PrecheckYikeAIAppJob with the exact AppId and AppParams the submit will send. Status Failed becomes
 * PRECHECK_FAILED (422, not retryable) listing each {key, errorCode}; any other status passes.
 */
export async function precheckYikeAIAppJob(ice: Invoker, input: { appId: string; appParams: string }): Promise<void> {
  const body = parseBody(
    precheckResponseSchema,
    await ice.invoke(YIKE_ASSET_ACTIONS.precheck, { query: { AppId: input.appId, AppParams: input.appParams } }, true),
    YIKE_ASSET_ACTIONS.precheck,
  );
  if (body.Status !== 'Failed') return;
  const issues: PrecheckIssue[] = (body.Result ?? []).map((item) => ({ key: item.Key ?? '(unnamed)', errorCode: item.ErrorCode ?? '(no code)' }));
  const listed = issues.length > 0 ? issues.map((issue) => `${issue.key}: ${issue.errorCode}`).join(', ') : 'no reason given';
  throw new YikeError('PRECHECK_FAILED', `ICE's precheck refused the job's inputs (${listed})`, {
    statusCode: 422,
    requestId: body.RequestId,
    details: issues,
  });
}

/** Refusals the same input always gets: job/idempotency records keep them (REJECTED) instead of retrying. */
export function isIceInputRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'PRECHECK_FAILED' || code === 'IMAGE_BLOCKED';
}
