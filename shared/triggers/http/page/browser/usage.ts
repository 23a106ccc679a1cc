import { api, type UsageAnswer } from './api';
import { $, clock } from './dom';

/** "N jobs left today", or plainly that the day's budget (or this token's quota) is spent; hidden without limits. */
function showUsage(usage: UsageAnswer): void {
  let left = usage.limit === null ? null : usage.remaining;
  let what = 'budget';
  for (const token of usage.tokens || []) {
    const tokenLeft = Math.max(0, token.limit - token.used);
    if (left === null || tokenLeft < left) {
      left = tokenLeft;
      what = 'quota';
    }
  }
  const box = $('usage');
  if (left === null) {
    box.hidden = true;
    delete document.body.dataset.budget;
    return;
  }
  const renews = clock(usage.resetsAt);
  if (left > 0) box.textContent = `${left}${left === 1 ? ' job' : ' jobs'} left today.`;
  else if (what === 'quota') box.textContent = `This access token has used all its jobs for today. It gets new ones at ${renews}.`;
  else box.textContent = `Today's budget is spent: a photo dropped now waits, and is submitted first when the budget renews at ${renews}.`;
  box.hidden = false;
  document.body.dataset.budget = left > 0 ? 'left' : 'spent';
}

/** GET /usage; a deployment without it (or without limits) shows nothing. */
export async function refreshUsage(): Promise<void> {
  try {
    showUsage(await api<UsageAnswer>('GET', 'usage'));
  } catch {
    $('usage').hidden = true;
  }
}
