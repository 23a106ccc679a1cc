/**
 * The customer mode: the page a brand links its customers to, `/#ticket=<ticket>` (POST /tickets mints it; the
 * fragment never reaches a server log). Consent → photo (checked and previewed here) → POST /uploads with the ticket
 * → PostObject → the job → the video, with download, share and delete. Its only credential is the ticket; the job is
 * kept in localStorage so a reload (or the link opened again) finds it, and forgotten when it is deleted.
 */
import type { StringKey } from '../strings';
import { api, type JobView, type ShareAnswer, setToken, type SubmitRecord, type UploadForm } from './api';
import { $ } from './dom';
import { codeOf, fail } from './errors';
import { findJob, followJob, jobPath, videoUrl, withCopy } from './job';
import { checkPhoto, readAsDataUrl } from './photo';
import { postToBucket } from './upload';
import { otherLanguage, say, startingLanguage, useLanguage } from './words';

/** What "usually about N minutes" says: a Yike AI job's usual time from submit to video. */
const USUAL_MINUTES = 3;
const SAVED_KEY = 'yike-customer';

/** What the page keeps across a reload: the ticket, and the upload and job it started. */
interface Saved {
  ticket: string;
  upload?: { bucket: string; key: string };
  jobId?: string;
}

/** The words on screen now, kept as keys so a change of language says them again. */
let status: { key: StringKey; values?: Record<string, string | number> } | undefined;
let failure: { key: StringKey; values?: Record<string, string | number>; code?: string } | undefined;
let saved: Saved | undefined;
let busy = false;
/** Until when the shown share link works (POST /jobs/{jobId}/share's expiresAt). */
let shareUntil: string | undefined;

const settings = () => {
  const data = $('customer').dataset;
  return { maxBytes: Number(data.maxBytes), suffixes: (data.suffixes || '').split(','), consentVersion: data.consentVersion || '' };
};
const megabytes = (bytes: number): string => String(Math.round((bytes / 1048576) * 10) / 10);

function save(next: Saved | undefined): void {
  saved = next;
  if (next) localStorage.setItem(SAVED_KEY, JSON.stringify(next));
  else localStorage.removeItem(SAVED_KEY);
}

function loadSaved(ticket: string | null): Saved | undefined {
  try {
    const kept = JSON.parse(localStorage.getItem(SAVED_KEY) || 'null') as Saved | null;
    // A link with another ticket is another customer's (or a new) visit: its own state starts empty.
    if (kept?.ticket && (!ticket || kept.ticket === ticket)) return kept;
  } catch {
    // Unreadable: start again.
  }
  return ticket ? { ticket } : undefined;
}

function render(): void {
  $('status').textContent = status ? say(status.key, status.values) : '';
  $('status').hidden = !status;
  const box = $('c-error');
  box.textContent = failure ? say(failure.key, failure.values) : '';
  if (failure?.code) box.append(document.createElement('br'), say('errCode', { code: failure.code }));
  box.hidden = !failure;
  $('photo-hint').textContent = $('photo').disabled ? say('consentFirst') : say('photoHint', { mb: megabytes(settings().maxBytes) });
  $('language').textContent = say('otherLanguage');
  if (shareUntil) $('share-until').textContent = say('shareLink', { date: new Date(shareUntil).toLocaleDateString(document.documentElement.lang) });
}

function show(state: string, key?: StringKey, values?: Record<string, string | number>): void {
  document.body.dataset.state = state;
  status = key ? { key, values } : undefined;
  failure = undefined;
  render();
}

/** The customer's words for a refusal or failure; the code is shown small, for whoever helps them. */
const WORDS_OF_CODE: Record<string, StringKey> = {
  TICKET_EXPIRED: 'errExpired',
  TICKET_INVALID: 'errExpired',
  TICKET_USED_UP: 'errUsed',
  CONSENT_REQUIRED: 'errConsent',
  NOT_AN_IMAGE: 'errType',
  IMAGE_TOO_LARGE: 'errType',
  PRECHECK_FAILED: 'errPhoto',
  IMAGE_BLOCKED: 'errPhoto',
  JOB_FAILED: 'errFailed',
  JOB_TIMED_OUT: 'errFailed',
  BUDGET_EXHAUSTED: 'errBusy',
  QUOTA_EXHAUSTED: 'errBusy',
  NETWORK: 'errNetwork',
  JOB_NOT_FOUND: 'errGone',
};

function showFailure(error: unknown): void {
  const code = codeOf(error) || 'ERROR';
  const status401 = (error as { status?: number }).status === 401;
  document.body.dataset.state = 'error';
  status = undefined;
  failure = { key: WORDS_OF_CODE[code] || (status401 ? 'errExpired' : 'errOther'), code };
  render();
}

/** The consent and the photo button, shown while the customer may choose a photo (the preview stays). */
function setPicking(on: boolean): void {
  $('consent-box').hidden = !on;
  $('choose').hidden = !on;
  $('photo-hint').hidden = !on;
  $('photo-box').hidden = !on && $('preview').hidden;
}

function enablePicker(enabled: boolean): void {
  $('photo').disabled = !enabled;
  $('choose').setAttribute('aria-disabled', String(!enabled));
  render();
}

/** The job from its id to its video; the record of an upload whose job is not known yet is found first. */
async function follow(kept: Saved): Promise<void> {
  let jobId = kept.jobId;
  if (!jobId && kept.upload) {
    const record: SubmitRecord = await findJob(kept.upload);
    if (record.status === 'DEFERRED') {
      show('deferred', 'waiting');
      return;
    }
    jobId = record.jobId!;
    save({ ...kept, jobId });
  }
  if (!jobId) return;
  show('making', 'making', { minutes: USUAL_MINUTES });
  const view = await withCopy(await followJob(jobId, () => undefined));
  if (view.status !== 'Finished') throw fail(view.error?.code || (view.status === 'TimedOut' ? 'JOB_TIMED_OUT' : 'JOB_FAILED'), '');
  showVideo(view);
}

function showVideo(view: JobView): void {
  const url = videoUrl(view);
  if (!url) throw fail('JOB_FAILED', '');
  $('c-video').src = url;
  $('download').href = url;
  $('ready').hidden = false;
  show('finished');
  // On a phone the video is below the photo: bring it into view, again once it has its size (a no-op where it is).
  const bringIntoView = () => $('ready').scrollIntoView({ block: 'start' });
  bringIntoView();
  $('c-video').addEventListener('loadedmetadata', bringIntoView, { once: true });
}

async function run(file: File): Promise<void> {
  if (busy || !saved) return;
  busy = true;
  const { maxBytes, suffixes, consentVersion } = settings();
  try {
    const photo = await checkPhoto(file, suffixes, maxBytes);
    if ('problem' in photo) {
      failure = photo.problem === 'type' ? { key: 'errType' } : { key: 'errSize', values: { mb: megabytes(photo.bytes), max: megabytes(maxBytes) } };
      status = undefined;
      document.body.dataset.state = 'refused';
      render();
      return;
    }
    $('preview').src = await readAsDataUrl(file);
    $('preview').hidden = false;
    setPicking(false);
    show('uploading', 'uploading');
    const upload = await api<UploadForm>('POST', 'uploads', {
      fileName: `photo${photo.suffix}`,
      contentType: photo.contentType,
      size: file.size,
      ...(consentVersion ? { consent: { version: consentVersion } } : {}),
    });
    save({ ticket: saved.ticket, upload: { bucket: upload.bucket, key: upload.key } });
    // Without a CORS rule the browser hides OSS's answer, but the upload landed: finding its job says so.
    await postToBucket(upload, file);
    await follow(saved);
  } catch (error) {
    showFailure(error);
    setPicking(true);
  } finally {
    busy = false;
    $('photo').value = '';
  }
}

async function share(): Promise<void> {
  if (!saved?.jobId) return;
  try {
    const answer = await api<ShareAnswer>('POST', `${jobPath(saved.jobId)}/share`);
    const link = new URL(answer.url, location.href).href;
    $('share-link').href = link;
    $('share-link').textContent = link;
    shareUntil = answer.expiresAt;
    render();
    $('share-box').hidden = false;
    document.body.dataset.shared = 'yes';
  } catch (error) {
    showFailure(error);
  }
}

async function remove(): Promise<void> {
  if (!saved?.jobId || !confirm(say('removeConfirm'))) return;
  try {
    await api<null>('DELETE', jobPath(saved.jobId));
  } catch (error) {
    // Already gone is what the customer asked for.
    if (codeOf(error) !== 'JOB_NOT_FOUND') {
      showFailure(error);
      return;
    }
  }
  // Forgotten here too; the ticket stays in memory (and in the link) for the photos it still allows.
  const { ticket } = saved;
  save(undefined);
  saved = { ticket };
  $('c-video').removeAttribute('src');
  $('ready').hidden = true;
  $('share-box').hidden = true;
  $('preview').hidden = true;
  $('preview').removeAttribute('src');
  setPicking(true);
  enablePicker($('consent').checked);
  show('deleted', 'removed');
}

/** Shows the customer mode for the ticket in the link (or the one kept from before), and resumes a kept job. */
export function startCustomer(ticket: string | null): void {
  $('customer').hidden = false;
  useLanguage(startingLanguage());
  saved = loadSaved(ticket);
  $('language').addEventListener('click', () => {
    useLanguage(otherLanguage(), true);
    render();
  });
  if (!saved) {
    $('no-ticket').hidden = false;
    setPicking(false);
    show('no-ticket');
    return;
  }
  setToken(saved.ticket);
  $('consent').addEventListener('change', () => enablePicker($('consent').checked));
  $('photo').addEventListener('change', () => {
    const file = $('photo').files?.[0];
    if (file) void run(file);
  });
  $('share').addEventListener('click', () => void share());
  $('remove').addEventListener('click', () => void remove());
  enablePicker(false);
  show('consent');
  if (saved.upload || saved.jobId) {
    // A job started before the reload: its consent was given then.
    setPicking(false);
    const kept = saved;
    follow(kept).catch((error: unknown) => {
      // Erased meanwhile (or expired with its ticket): forget it, and start again.
      if (codeOf(error) === 'JOB_NOT_FOUND') save({ ticket: kept.ticket });
      showFailure(error);
      setPicking(true);
    });
  }
}
