/**
 * The operator mode (`#operator`), for developers: token → GET /apps → POST /uploads → PostObject to OSS →
 * GET /jobs/by-object → GET /jobs/{id}?wait=20, with the job's timeline.
 */
import { type AppsAnswer, api, setToken, type UploadForm } from './api';
import { $, clock, megabytes } from './dom';
import { describe, fail } from './errors';
import { findJob, followJob, STEP_OF_STATUS, showSteps, showVideo, withCopy } from './job';
import { currentStep, hideNotice, resetJob, setStep, showError, showNotice } from './timeline';
import { postToBucket } from './upload';
import { refreshUsage } from './usage';

const TOKEN_KEY = 'yike-token';
/** One job at a time: a drop while one runs is ignored. */
let busy = false;

async function connect(): Promise<void> {
  const token = $('token').value.trim();
  setToken(token);
  $('auth-status').textContent = '';
  if (!token) {
    $('auth-status').textContent = 'Enter an access token first.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    const data = await api<AppsAnswer>('GET', 'apps');
    const select = $('app');
    select.textContent = '';
    for (const app of data.apps) {
      const option = document.createElement('option');
      option.value = app.name;
      option.textContent = app.name === app.appId ? app.appId : `${app.name} (${app.appId})`;
      option.title = app.description;
      select.appendChild(option);
    }
    $('limits').textContent = `One image: ${data.imageSuffixes.join(', ')}, at most ${megabytes(data.maxImageBytes)}.`;
    $('auth-status').textContent = 'Connected.';
    $('try').hidden = false;
    await refreshUsage();
    if (data.apps.length === 0) $('auth-status').textContent = 'Connected, but no app is set up for uploads (APP_ROUTES).';
  } catch (error) {
    $('try').hidden = true;
    $('auth-status').textContent = describe(error);
  }
}

async function run(file: File): Promise<void> {
  if (busy) return;
  busy = true;
  resetJob();
  try {
    setStep('uploading');
    const upload = await api<UploadForm>('POST', 'uploads', {
      app: $('app').value,
      fileName: file.name,
      contentType: file.type || 'application/octet-stream',
      size: file.size,
    });
    $('job-id').textContent = `Object ${upload.bucket}/${upload.key}`;
    const warning = await postToBucket(upload, file);
    if (warning) showNotice(describe(warning));
    setStep('submitted', undefined, false, true);
    const record = await findJob(upload);
    // The upload landed (its record is there): a warning that the browser could not read OSS's answer is moot now.
    if (warning) hideNotice();
    if (record.status === 'DEFERRED') {
      // Kept, not lost: the budget's renewal submits it, oldest first, when the day's budget renews.
      const resetsAt = record.error?.details?.resetsAt;
      const renews = resetsAt ? clock(resetsAt) : '';
      showNotice(
        `Waiting for the budget: the image is kept and is submitted when the budget renews${renews ? ` at ${renews}` : ''}. Nothing is charged until then.`,
      );
      document.body.dataset.state = 'deferred';
      return;
    }
    setStep('submitted', record.startedAt);
    $('job-id').textContent = `JobId ${record.jobId} (${record.appId})`;
    const view = await followJob(record.jobId!, showSteps);
    if (view.status === 'Finished') {
      setStep('finished', view.executionFinishTime);
      showVideo(await withCopy(view));
    } else {
      setStep(STEP_OF_STATUS[view.status] || 'finished', view.updatedAt, true);
      throw fail(view.error?.code || (view.status === 'TimedOut' ? 'JOB_TIMED_OUT' : 'JOB_FAILED'), view.error?.message || '');
    }
  } catch (error) {
    setStep(currentStep(), undefined, true, true);
    showError(error);
  } finally {
    busy = false;
    $('file').value = '';
    void refreshUsage();
  }
}

function pick(files: FileList | null | undefined): void {
  const file = files?.[0];
  if (file) void run(file);
}

/** Shows the operator mode; the token is kept for the tab's life (sessionStorage): a reload connects again. */
export function startOperator(): void {
  $('operator').hidden = false;
  const savedToken = sessionStorage.getItem(TOKEN_KEY) || '';
  $('token').value = savedToken;
  $('connect').addEventListener('click', () => void connect());
  $('token').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') void connect();
  });
  $('file').addEventListener('change', () => pick($('file').files));
  const drop = $('drop');
  for (const type of ['dragenter', 'dragover'] as const) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop'] as const) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.remove('over');
    });
  }
  drop.addEventListener('drop', (event) => pick(event.dataTransfer?.files));
  if (savedToken) void connect();
}
