import { TIMELINE_STEPS, type TimelineStep } from '../page-contract';
import { $, clock } from './dom';
import { describe } from './errors';

const stepIndex = (step: string | undefined): number => (TIMELINE_STEPS as readonly (string | undefined)[]).indexOf(step);

/** The step the job has reached (the one a failure marks). */
export function currentStep(): TimelineStep {
  return TIMELINE_STEPS.find((step) => step === document.body.dataset.step) || 'uploading';
}

/** Marks the steps before this step done and it current (or failed); pending: reached but not yet timed. */
export function setStep(step: TimelineStep, time?: string, failed?: boolean, pending?: boolean): void {
  const index = stepIndex(step);
  for (const item of $('timeline').children) {
    const at = stepIndex((item as HTMLElement).dataset.step);
    if (at < index && !item.classList.contains('done')) {
      item.classList.add('done');
      item.classList.remove('current');
      // A status the job passed between two polls: ICE keeps no time for it.
      const passed = item.querySelector('time')!;
      if (!passed.textContent) {
        passed.textContent = '—';
        passed.title = 'passed between two status reads';
      }
    }
    if (at === index) {
      item.classList.remove('current');
      item.classList.add(failed ? 'failed' : step === 'finished' ? 'done' : 'current');
      if (failed) item.classList.remove('done');
      const stamp = item.querySelector('time')!;
      if (!stamp.textContent && !pending) stamp.textContent = clock(time);
    }
  }
  document.body.dataset.step = step;
}

export function resetJob(): void {
  clearError();
  hideNotice();
  $('job').hidden = false;
  $('result').hidden = true;
  $('video').removeAttribute('src');
  $('job-id').textContent = '';
  for (const item of $('timeline').children) {
    item.className = '';
    item.querySelector('time')!.textContent = '';
  }
  document.body.dataset.state = 'working';
}

export function showError(error: unknown): void {
  const box = $('error');
  box.textContent = describe(error);
  box.hidden = false;
  document.body.dataset.state = 'error';
}

function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** Says something about the job without stopping it (it stays up while the job goes on, until hideNotice). */
export function showNotice(text: string): void {
  $('notice').textContent = text;
  $('notice').hidden = false;
}

export function hideNotice(): void {
  $('notice').hidden = true;
  $('notice').textContent = '';
}
