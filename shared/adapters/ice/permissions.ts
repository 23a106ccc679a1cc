import type { RamGrant } from '../ram-grant';

/**
 * The ICE actions client.ts and yike-assets.ts send, each authorized by the RAM action of the same name (`ice:<Action>`).
 * ICE grants them on all resources: none has resource-level permission (docs/platform-facts.md, "RAM and ROS").
 */
const ICE_CALLS: readonly [action: string, by: string][] = [
  ['SubmitYikeAIAppJob', 'client.ts submitYikeAIAppJob: the one paid call'],
  ['GetYikeAIAppJob', 'client.ts getYikeAIAppJob: GET /jobs/{jobId}?refresh=1, the doctor'],
  ['BatchGetYikeAIAppJob', "client.ts batchGetYikeAIAppJobs: the watcher's rounds"],
  ['PrecheckYikeAIAppJob', 'yike-assets.ts precheckYikeAIAppJob: PRECHECK=on and the auto image mode'],
  ['GetMediaInfo', 'client.ts resolveMediaId: the media-id form'],
  ['RegisterMediaInfo', 'client.ts resolveMediaId: the media-id form'],
  ['RegisterYikeAssetMediaInfo', 'yike-assets.ts registerYikeAsset: the yike-asset form'],
  ['GetYikeAssetMediaInfo', "yike-assets.ts getYikeAssetAudit: the yike-asset form's audit"],
];

export const ICE_GRANTS: readonly RamGrant[] = ICE_CALLS.map(([action, by]) => ({ action: `ice:${action}`, on: { any: true }, by }));
