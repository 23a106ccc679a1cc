/**
 * How the local ICE endpoint shows its records: a job as GetYikeAIAppJob / BatchGetYikeAIAppJob answer it (fields
 * at the top level [GETJOB], AppInputConfig in place of AppParams in a batch [BATCH]), and the defensive copies that
 * jobs() and calls() hand out. A media asset as GetMediaInfo answers it is in media-library.ts.
 *
 * Sources:
 * - [GETJOB]  GetYikeAIAppJob API reference, https://help.aliyun.com/zh/ims/developer-reference/api-ice-2020-11-09-getyikeaiappjob,
 *             and GetYikeAIAppJobResponseBody of the ice20201109 SDKs.
 * - [BATCH]   BatchGetYikeAIAppJobResponseBody (ice20201109 SDKs): each item with AppInputConfig.
 */
import type { JobPhase } from './job-clock';
import type { LocalOutput } from './outputs';
import type { AcceptedJob, ReceivedCall } from './types';

/** [GETJOB] examples show times like 2026-02-06T18:53:34.001+08:00 (China Standard Time, milliseconds). */
const ICE_TIME_OFFSET_MS = 8 * 60 * 60 * 1000;
const ICE_TIME_OFFSET_SUFFIX = '+08:00';

/** Status and result of a job in `phase` (from the job clock); a finished job lists its outputs (outputs.ts) by group. */
export function jobView(
  job: AcceptedJob,
  phase: JobPhase,
  outputs: readonly LocalOutput[],
  inputFieldName: 'AppParams' | 'AppInputConfig',
): Record<string, unknown> {
  const { status, startedAtMs, finishedAtMs } = phase;
  return {
    JobId: job.jobId,
    AppId: job.appId,
    [inputFieldName]: job.appParamsRaw || undefined,
    ProductionId: job.productionId,
    FolderId: job.folderId,
    Status: status,
    ExecutionStartTime: startedAtMs === undefined ? undefined : formatIceTime(startedAtMs),
    ExecutionFinishTime: finishedAtMs === undefined ? undefined : formatIceTime(finishedAtMs),
    Result: status === 'Finished' ? resultOf(job.jobId, outputs) : undefined,
  };
}

/** [GETJOB] Result.{VideoResult,ImageResult}[].{MediaId, OutputUrl}. */
function resultOf(jobId: string, outputs: readonly LocalOutput[]): Record<string, unknown> {
  const result: Record<string, { MediaId: string; OutputUrl: string }[]> = {};
  outputs.forEach((output, index) => {
    const group = result[output.group] ?? [];
    group.push({ MediaId: index === 0 ? mediaIdFor(jobId) : mediaIdFor(`${jobId}${index}`).slice(0, 32), OutputUrl: output.url });
    result[output.group] = group;
  });
  return result;
}

/** [GETJOB] time format: local time in China with milliseconds and offset, e.g. 2026-02-06T18:53:34.001+08:00. */
function formatIceTime(epochMs: number): string {
  return new Date(epochMs + ICE_TIME_OFFSET_MS).toISOString().replace('Z', ICE_TIME_OFFSET_SUFFIX);
}

/** A stable made-up media id (32 hex, as in the [GETJOB] examples) for a job's result. */
function mediaIdFor(jobId: string): string {
  return [...jobId].reverse().join('');
}

export function copyJob(job: AcceptedJob): AcceptedJob {
  return { ...job, appParams: structuredClone(job.appParams) };
}

export function copyCall(call: ReceivedCall): ReceivedCall {
  return { ...call, fields: { ...call.fields }, placement: { ...call.placement } };
}
