import * as z from '../../runtime/zod';
import { parseBody } from './answers';

/**
 * ICE 2020-11-09 Yike asset and precheck actions. Request shapes follow the official ice-20201109 TypeScript SDK
 * (aliyun/alibabacloud-typescript-sdk, ice-20201109/src/client.ts): RegisterYikeAssetMediaInfo sends FolderId,
 * InputURL, MediaType, ProductionId as query fields; GetYikeAssetMediaInfo (MediaId) and PrecheckYikeAIAppJob
 * (AppId, AppParams) follow the same query-field pattern (confirmed in the Yike 2026-03-19 SDK's copies of them).
 * These answer what ICE said; what the answer means for a job (blocked, refused) is the domain's call.
 */
const YIKE_ASSET_ACTIONS = {
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

/** One signed ICE call (the client's `invoke`): fields in the query or the form body; `idempotent` allows resends. */
type IceInvoke = (action: string, fields: { query?: Record<string, string>; body?: Record<string, string> }, idempotent: boolean) => Promise<unknown>;

export async function registerYikeAsset(
  invoke: IceInvoke,
  input: { inputUrl: string; productionId?: string; folderId?: string },
): Promise<{ mediaId: string; requestId: string }> {
  const query: Record<string, string> = { InputURL: input.inputUrl, MediaType: 'image' };
  if (input.productionId) query.ProductionId = input.productionId;
  if (input.folderId) query.FolderId = input.folderId;
  // Retried like a read: a resend after a lost answer can at worst register a second (free) asset, never a job.
  const body = parseBody(registerResponseSchema, await invoke(YIKE_ASSET_ACTIONS.register, { query }, true), YIKE_ASSET_ACTIONS.register);
  return { mediaId: body.MediaId, requestId: body.RequestId };
}

export async function getYikeAssetAudit(invoke: IceInvoke, mediaId: string): Promise<{ mediaId: string; auditStatus?: string; auditBlockedLabel?: string }> {
  const body = parseBody(getResponseSchema, await invoke(YIKE_ASSET_ACTIONS.get, { query: { MediaId: mediaId } }, true), YIKE_ASSET_ACTIONS.get);
  const bizData = body.MediaInfo.BizData;
  return { mediaId, auditStatus: bizData?.AuditStatus || undefined, auditBlockedLabel: bizData?.AuditBlockedLabel?.trim() || undefined };
}

/** PrecheckYikeAIAppJob with the exact AppId and AppParams the submit will send (free: no job is started). */
export async function precheckYikeAIAppJob(
  invoke: IceInvoke,
  input: { appId: string; appParams: string },
): Promise<{ requestId: string; status: string; issues: { key: string; errorCode: string }[] }> {
  const body = parseBody(
    precheckResponseSchema,
    await invoke(YIKE_ASSET_ACTIONS.precheck, { query: { AppId: input.appId, AppParams: input.appParams } }, true),
    YIKE_ASSET_ACTIONS.precheck,
  );
  const issues = (body.Result ?? []).map((item) => ({ key: item.Key ?? '(unnamed)', errorCode: item.ErrorCode ?? '(no code)' }));
  return { requestId: body.RequestId, status: body.Status, issues };
}
