import { z } from 'zod';

/** SubmitYikeAIAppJob answer: {"RequestId": "...", "JobId": "..."}. */
export const submitResponseSchema = z.object({
  RequestId: z.string().min(1),
  JobId: z.string().min(1),
});

const mediaResult = z.object({ MediaId: z.string().optional(), OutputUrl: z.string().optional() }).passthrough();

export const JOB_STATUSES = ['Created', 'Queuing', 'Executing', 'Finished', 'Failed'] as const;

/** GetYikeAIAppJob answer: job fields at the top level (ice-20201109 GetYikeAIAppJobResponseBody). */
export const getJobResponseSchema = z.object({
  RequestId: z.string().min(1),
  JobId: z.string().min(1),
  AppId: z.string().optional(),
  AppParams: z.string().optional(),
  ProductionId: z.string().optional(),
  FolderId: z.string().optional(),
  // Unknown future statuses are passed through rather than failing the call.
  Status: z.string().min(1),
  ExecutionStartTime: z.string().optional(),
  ExecutionFinishTime: z.string().optional(),
  Result: z
    .object({
      VideoResult: z.array(mediaResult).optional(),
      ImageResult: z.array(mediaResult).optional(),
      AudioResult: z.array(mediaResult).optional(),
    })
    .passthrough()
    .optional(),
});

export type GetJobResponse = z.infer<typeof getJobResponseSchema>;

/**
 * BatchGetYikeAIAppJob answer (ice-20201109 BatchGetYikeAIAppJobResponseBody): {RequestId, JobList[]}, each entry
 * GetYikeAIAppJob's fields except that the input is named AppInputConfig. Ids ICE does not know are left out.
 */
export const batchGetJobsResponseSchema = z.object({
  RequestId: z.string().min(1),
  JobList: z.array(getJobResponseSchema.omit({ RequestId: true, AppParams: true }).extend({ AppInputConfig: z.string().optional() })).default([]),
});

export type BatchGetJobsResponse = z.infer<typeof batchGetJobsResponseSchema>;

/** RegisterMediaInfo answer: {"RequestId", "MediaId"}. */
export const registerMediaResponseSchema = z.object({ RequestId: z.string().min(1), MediaId: z.string().min(1) });

/** GetMediaInfo answer: the asset under MediaInfo (only its id is used). */
export const getMediaResponseSchema = z.object({
  RequestId: z.string().min(1),
  MediaInfo: z.object({ MediaId: z.string().min(1) }).passthrough(),
});
