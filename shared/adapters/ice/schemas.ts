import * as z from '../../runtime/zod';

/** SubmitYikeAIAppJob answer: {"RequestId": "...", "JobId": "..."}. */
export const submitResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  JobId: z.string().check(z.minLength(1)),
});

const mediaResult = z.looseObject({ MediaId: z.optional(z.string()), OutputUrl: z.optional(z.string()) });

/** GetYikeAIAppJob answer: job fields at the top level (ice-20201109 GetYikeAIAppJobResponseBody). */
export const getJobResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  JobId: z.string().check(z.minLength(1)),
  AppId: z.optional(z.string()),
  AppParams: z.optional(z.string()),
  ProductionId: z.optional(z.string()),
  FolderId: z.optional(z.string()),
  // Unknown future statuses are passed through rather than failing the call.
  Status: z.string().check(z.minLength(1)),
  ExecutionStartTime: z.optional(z.string()),
  ExecutionFinishTime: z.optional(z.string()),
  Result: z.optional(
    z.looseObject({
      VideoResult: z.optional(z.array(mediaResult)),
      ImageResult: z.optional(z.array(mediaResult)),
      AudioResult: z.optional(z.array(mediaResult)),
    }),
  ),
});

export type GetJobResponse = z.infer<typeof getJobResponseSchema>;

/**
 * BatchGetYikeAIAppJob answer (ice-20201109 BatchGetYikeAIAppJobResponseBody): {RequestId, JobList[]}, each entry
 * GetYikeAIAppJob's fields except that the input is named AppInputConfig. Ids ICE does not know are left out.
 */
export const batchGetJobsResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  // Entries are parsed one by one (batchJobEntrySchema): one unreadable job must not hide the others' answers.
  JobList: z._default(z.array(z.unknown()), []),
});

/** One entry of JobList. */
export const batchJobEntrySchema = z.extend(z.omit(getJobResponseSchema, { RequestId: true, AppParams: true }), { AppInputConfig: z.optional(z.string()) });

/** RegisterMediaInfo answer: {"RequestId", "MediaId"}. */
export const registerMediaResponseSchema = z.object({ RequestId: z.string().check(z.minLength(1)), MediaId: z.string().check(z.minLength(1)) });

/** GetMediaInfo answer: the asset under MediaInfo (only its id is used). */
export const getMediaResponseSchema = z.object({
  RequestId: z.string().check(z.minLength(1)),
  MediaInfo: z.looseObject({ MediaId: z.string().check(z.minLength(1)) }),
});
