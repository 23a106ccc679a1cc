/**
 * What the page's HTML (page.ts) and its script (browser/) agree on. Free of DOM and Node types, so both programs
 * type-check it: the elements the script looks up by id, with their tags, and the job's timeline steps.
 */
export const PAGE_ELEMENTS = {
  // The customer mode (#ticket=…): its texts are strings.ts's, by key.
  customer: 'div',
  language: 'button',
  'no-ticket': 'p',
  'consent-box': 'section',
  consent: 'input',
  'photo-box': 'section',
  choose: 'label',
  photo: 'input',
  'photo-hint': 'p',
  preview: 'img',
  status: 'p',
  'c-error': 'p',
  ready: 'section',
  'c-video': 'video',
  download: 'a',
  share: 'button',
  'share-box': 'p',
  'share-until': 'span',
  'share-link': 'a',
  remove: 'button',
  'operator-link': 'a',
  // The operator mode (#operator): a bearer token and an app picker, for developers.
  operator: 'div',
  token: 'input',
  connect: 'button',
  'auth-status': 'p',
  try: 'section',
  app: 'select',
  drop: 'div',
  file: 'input',
  limits: 'p',
  usage: 'p',
  job: 'section',
  timeline: 'ol',
  'job-id': 'p',
  notice: 'p',
  error: 'p',
  result: 'div',
  video: 'video',
  'video-link': 'a',
} as const;

/** The timeline's steps, in order: each is an `<li data-step>` of `#timeline`. */
export const TIMELINE_STEPS = ['uploading', 'submitted', 'queued', 'executing', 'finished'] as const;

export type TimelineStep = (typeof TIMELINE_STEPS)[number];
