import type { TimelineStep } from '../page-contract';
import { api, type JobView, type SubmitRecord, type UploadForm } from './api';
import { $, sleep } from './dom';
import { codeOf, fail, isTransient } from './errors';
import { setStep, showError } from './timeline';

export const STEP_OF_STATUS: Record<string, TimelineStep> = {
  Submitted: 'submitted',
  Created: 'submitted',
  Queuing: 'queued',
  Executing: 'executing',
  Finished: 'finished',
};
const FIND_JOB_MS = 120000;
/** A Finished job's own copy (JOB_RESULTS=copy) is usually there within seconds; after this the page plays ICE's URL. */
const COPY_WAIT_MS = 60000;

export const jobPath = (jobId: string): string => `jobs/${encodeURIComponent(jobId)}`;

/** The job the upload trigger submitted for the object (it may take a moment to appear), or its DEFERRED record. */
export async function findJob(upload: Pick<UploadForm, 'bucket' | 'key'>): Promise<SubmitRecord> {
  const deadline = Date.now() + FIND_JOB_MS;
  const query = `jobs/by-object?bucket=${encodeURIComponent(upload.bucket)}&key=${encodeURIComponent(upload.key)}`;
  while (Date.now() < deadline) {
    try {
      const record = await api<SubmitRecord>('GET', query);
      if ((record.status === 'COMPLETED' && record.jobId) || record.status === 'DEFERRED') return record;
      if (record.status !== 'IN_PROGRESS') throw fail(record.error?.code || record.status, record.error?.message || '');
    } catch (error) {
      if (codeOf(error) !== 'JOB_NOT_FOUND' && !isTransient(error)) throw error;
    }
    await sleep(1000);
  }
  throw fail('JOB_NOT_FOUND', `No job was submitted for the upload within ${FIND_JOB_MS / 1000} s.`);
}

/** GET /jobs/{jobId}?wait=20 until the job is terminal, telling onView each answer; five transient failures in a row end it. */
export async function followJob(jobId: string, onView: (view: JobView) => void): Promise<JobView> {
  let failures = 0;
  for (;;) {
    let view: JobView;
    try {
      view = await api<JobView>('GET', `${jobPath(jobId)}?wait=20`);
      failures = 0;
    } catch (error) {
      if (!isTransient(error) || ++failures > 5) throw error;
      await sleep(3000);
      continue;
    }
    onView(view);
    if (view.terminal) return view;
  }
}

/** While the watcher copies the output into the bucket, GET /jobs/{id} says copy: "pending"; then it has a playUrl. */
export async function withCopy(finished: JobView): Promise<JobView> {
  const deadline = Date.now() + COPY_WAIT_MS;
  let view = finished;
  while (!view.playUrl && view.copy === 'pending' && Date.now() < deadline) {
    await sleep(1000);
    try {
      view = await api<JobView>('GET', jobPath(view.jobId));
    } catch (error) {
      if (!isTransient(error)) throw error;
    }
  }
  return view;
}

/** The timeline's steps for one answer of GET /jobs/{jobId} (the operator mode). */
export function showSteps(view: JobView): void {
  if (view.executionStartTime) setStep('executing', view.executionStartTime);
  const step = STEP_OF_STATUS[view.status];
  if (step) setStep(step, step === 'finished' ? view.executionFinishTime : undefined);
}

/** The video to play: the own copy's signed URL, else ICE's output URL (http or https). */
export function videoUrl(view: JobView): string | undefined {
  const result = (view.results || []).find((candidate) => candidate.outputUrl && /^https?:\/\//.test(candidate.outputUrl));
  return view.playUrl || result?.outputUrl;
}

export function showVideo(view: JobView): void {
  const url = videoUrl(view);
  if (!url) {
    showError(fail('JOB_FAILED', 'The job finished without an output URL.'));
    return;
  }
  $('video').src = url;
  $('video-link').href = url;
  $('video-link').textContent = view.playUrl
    ? `your copy${view.playUrlExpiresAt ? ` (link valid until ${new Date(view.playUrlExpiresAt).toLocaleTimeString()})` : ''}`
    : url;
  $('result').hidden = false;
  document.body.dataset.state = 'finished';
}
