/**
 * The RAM actions a policy of this project may name, each with the public page that documents it. A policy naming
 * anything else (a typo, or an operation that is not an action of its own, such as oss:HeadObject) fails
 * local/ram/policy.ts's policyProblems.
 */
const ICE_API = (action: string) =>
  `ICE API reference, ${action}: its authorization table (help.aliyun.com/zh/ims/developer-reference/api-ice-2020-11-09-${action.toLowerCase()})`;
const OSS_ACTIONS = 'OSS "Authorization syntax and elements" (help.aliyun.com/en/oss/user-guide/authorization-syntax-and-elements)';
const FC_API = (operation: string) =>
  `FC API 2023-03-30, ${operation}: its RAM authorization table (alibabacloud.com/help/en/functioncompute/developer-reference/api-fc-2023-03-30-${operation.toLowerCase()})`;

export const DOCUMENTED_ACTIONS: Readonly<Record<string, string>> = {
  'ice:SubmitYikeAIAppJob': ICE_API('SubmitYikeAIAppJob'),
  'ice:GetYikeAIAppJob': ICE_API('GetYikeAIAppJob'),
  'ice:BatchGetYikeAIAppJob': ICE_API('BatchGetYikeAIAppJob'),
  'ice:PrecheckYikeAIAppJob': ICE_API('PrecheckYikeAIAppJob'),
  'ice:GetMediaInfo': ICE_API('GetMediaInfo'),
  'ice:RegisterMediaInfo': ICE_API('RegisterMediaInfo'),
  'ice:RegisterYikeAssetMediaInfo': ICE_API('RegisterYikeAssetMediaInfo'),
  'ice:GetYikeAssetMediaInfo': ICE_API('GetYikeAssetMediaInfo'),
  // OSS: GetObject also authorizes HeadObject and GetObjectMeta; PutObject also PostObject (and CopyObject's target).
  'oss:GetObject': OSS_ACTIONS,
  'oss:PutObject': OSS_ACTIONS,
  'oss:DeleteObject': OSS_ACTIONS,
  'oss:ListObjects': OSS_ACTIONS,
  'oss:GetBucketLocation': OSS_ACTIONS,
  'oss:GetBucketCors': OSS_ACTIONS,
  'oss:PutBucketCors': OSS_ACTIONS,
  'fc:InvokeFunction': FC_API('InvokeFunction'),
  'fc:GetFunction': FC_API('GetFunction'),
  'fc:ListTriggers': FC_API('ListTriggers'),
  'mns:SendMessage': 'MNS "RAM policies" (queue actions on acs:mns:<region>:<account>:/queues/<name>/messages), and FC async destinations',
  'sts:AssumeRole': 'RAM "Policy structure and syntax": the action of a role\'s trust policy',
};
