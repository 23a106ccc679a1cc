import { createHash } from 'node:crypto';
import type { Config } from '../../../runtime/config';
import type { ApiResponse } from '../../events/fc-http';
import { uploadFormUrl } from '../../../domain/uploads/upload-form-url';
import { TIMELINE_STEPS, type TimelineStep } from './page-contract';
import { PAGE_SCRIPT } from './page-script';
import type { StringKey } from './strings';

type PageConfig = Pick<Config, 'oss' | 'uploads' | 'ice' | 'tickets'>;

const escapeAttribute = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * `GET /`: one self-contained page (inline style and script, no framework, no CDN) to try the apps in a browser. Its
 * script is browser/ (TypeScript with DOM types), which the build bundles into PAGE_SCRIPT (page-script.d.ts); the
 * ids and steps the script and this HTML share are in page-contract.ts. Only GET / loads this module (api.ts).
 * The CSP allows exactly that script and style (by hash), calls to this origin and to the upload bucket, and
 * videos over https (ICE's output URLs); on the local cloud, also loopback http.
 */
const PAGE_STYLE = `
:root{color-scheme:light dark;font:16px/1.5 system-ui,sans-serif;--accent:#ff6a00;--muted:#6b7280;--ok:#15803d;--bad:#b91c1c}
body{margin:0;padding:2rem 1rem}main{max-width:40rem;margin:auto}h1{font-size:1.5rem;margin:0 0 .25rem}
.lead,.hint{color:var(--muted)}.hint{font-size:.875rem}section{margin:1.5rem 0}label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=password],select{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid #9ca3af;border-radius:.375rem}
button{font:inherit;margin-top:.5rem;padding:.5rem 1rem;border:0;border-radius:.375rem;background:var(--accent);color:#fff;cursor:pointer}
.drop{margin-top:1rem;padding:2rem;border:2px dashed #9ca3af;border-radius:.75rem;text-align:center}.drop.over{border-color:var(--accent);background:#ff6a0010}
.drop input{display:none}.pick{display:inline;font-weight:400;color:var(--accent);text-decoration:underline;cursor:pointer;margin:0}
#timeline{list-style:none;padding:0;margin:0}#timeline li{padding:.35rem 0 .35rem 1.75rem;position:relative;color:var(--muted)}
#timeline li::before{content:"";position:absolute;left:.25rem;top:.7rem;width:.75rem;height:.75rem;border-radius:50%;border:2px solid currentColor;box-sizing:border-box}
#timeline li.current{color:inherit;font-weight:600}#timeline li.current::before{border-color:var(--accent)}
#timeline li.done{color:var(--ok)}#timeline li.done::before{background:var(--ok);border-color:var(--ok)}
#timeline li.failed{color:var(--bad);font-weight:600}#timeline li.failed::before{background:var(--bad);border-color:var(--bad)}
#timeline time{margin-left:.5rem;font-size:.875rem;font-weight:400;color:var(--muted)}
.error{color:var(--bad);border-left:4px solid var(--bad);padding:.5rem .75rem;background:#b91c1c10}
.notice{border-left:4px solid var(--accent);padding:.5rem .75rem;background:#ff6a0010}
.usage{font-weight:600}body[data-budget=spent] .usage{color:var(--bad)}
video{width:100%;max-height:60vh;background:#000;border-radius:.5rem}a{color:var(--accent);word-break:break-all}
.card{border:1px solid #9ca3af80;border-radius:.75rem;padding:0 1rem 1rem;margin:1rem 0}h2{font-size:1.125rem;margin:1rem 0 .5rem}[hidden]{display:none!important}
.agree{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}.agree input{width:1.25rem;height:1.25rem;margin:.15rem 0 0;flex:none}
.button{display:inline-block;font-weight:600;padding:.75rem 1.25rem;border-radius:.5rem;background:var(--accent);color:#fff;text-decoration:none;cursor:pointer;margin:.75rem .5rem 0 0}
.button[aria-disabled=true]{opacity:.4;cursor:not-allowed}#photo{display:none}#preview{display:block;max-width:100%;max-height:40vh;border-radius:.5rem;margin:1rem auto 0}body[data-state=finished] #preview{max-height:20vh}
.status{font-weight:600;font-size:1.125rem}body[data-state=uploading] #status::before,body[data-state=making] #status::before{content:"";display:inline-block;width:1em;height:1em;margin-right:.5rem;border:2px solid var(--accent);border-right-color:transparent;border-radius:50%;animation:spin 1s linear infinite;vertical-align:-.15em}
@keyframes spin{to{transform:rotate(360deg)}}.frame{position:relative}.ai{position:absolute;top:.5rem;left:.5rem;background:#000000b0;color:#fff;font-size:.8125rem;padding:.125rem .5rem;border-radius:.25rem}
button.quiet{background:none;color:var(--muted);text-decoration:underline;padding:.25rem 0}button.danger{color:var(--bad);margin-top:1.5rem}.language{float:right;margin:0}.foot{margin-top:3rem;font-size:.875rem}
`;

const STEP_LABELS: Record<TimelineStep, string> = {
  uploading: 'Uploading',
  submitted: 'Submitted',
  queued: 'Queued',
  executing: 'Executing',
  finished: 'Finished',
};

/** The customer page's elements name their text by key (strings.ts); the script fills it in the browser's language. */
const t = (key: StringKey): string => `data-t="${key}"`;

/** What the customer page checks before uploading and sends with it, from this deployment's settings. */
function customerSettings(config: PageConfig): string {
  const consentVersion = config.tickets.consentVersion ?? '';
  return `data-max-bytes="${config.uploads.maxImageBytes}" data-suffixes="${config.uploads.imageSuffixes.join(',')}" data-consent-version="${escapeAttribute(consentVersion)}"`;
}

const CUSTOMER_HTML = `<button id="language" type="button" class="quiet language" ${t('otherLanguage')}></button>
<h1 ${t('pageTitle')}></h1>
<p class="lead" ${t('lead')}></p>
<p id="no-ticket" class="notice" ${t('noTicket')} hidden></p>
<section id="consent-box" class="card">
<h2 ${t('consentTitle')}></h2>
<p ${t('consentText')}></p>
<label class="agree"><input id="consent" type="checkbox"> <span ${t('consentAgree')}></span></label>
</section>
<section id="photo-box" class="card">
<label id="choose" class="button" for="photo" aria-disabled="true" ${t('choose')}></label>
<input id="photo" type="file" accept="image/jpeg,image/png,image/webp" disabled>
<p id="photo-hint" class="hint"></p>
<img id="preview" hidden>
</section>
<p id="status" class="status" role="status" hidden></p>
<p id="c-error" class="error" role="alert" hidden></p>
<section id="ready" hidden>
<h2 ${t('ready')}></h2>
<div class="frame"><video id="c-video" controls playsinline preload="metadata"></video><span class="ai" ${t('madeWithAi')}></span></div>
<p class="actions"><a id="download" class="button" download target="_blank" rel="noopener noreferrer" ${t('download')}></a>
<button id="share" type="button" class="button" ${t('share')}></button></p>
<p id="share-box" hidden><span id="share-until"></span><br><a id="share-link" target="_blank" rel="noopener noreferrer"></a></p>
<button id="remove" type="button" class="quiet danger" ${t('remove')}></button>
</section>
<p class="foot"><a id="operator-link" href="#operator" ${t('developers')}></a></p>`;

const OPERATOR_HTML = `<h1>Try a Yike AI app</h1>
<p class="lead">Drop a photo: it goes to the bucket, the upload trigger submits the job, and the video plays here when ICE has made it.</p>
<section id="auth">
<label for="token">Access token</label>
<input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="one of the service's AUTH_TOKENS">
<button id="connect" type="button">Connect</button>
<p id="auth-status" class="hint" role="status"></p>
</section>
<section id="try" hidden>
<label for="app">App</label>
<select id="app"></select>
<div id="drop" class="drop"><p>Drop an image here, or <label class="pick" for="file">choose a file</label></p>
<input id="file" type="file" accept="image/*"><p id="limits" class="hint"></p></div>
<p id="usage" class="usage" role="status" hidden></p>
</section>
<section id="job" hidden>
<h2>Job</h2>
<ol id="timeline">${TIMELINE_STEPS.map((step) => `<li data-step="${step}">${STEP_LABELS[step]}<time></time></li>`).join('')}</ol>
<p id="job-id" class="hint"></p>
<p id="notice" class="notice" role="status" hidden></p>
<p id="error" class="error" role="alert" hidden></p>
<div id="result" hidden><video id="video" controls playsinline preload="metadata"></video>
<p><a id="video-link" href="#" target="_blank" rel="noopener noreferrer">Open the video</a></p></div>
</section>`;

/** The page: the customer mode (`#ticket=…`, the default) and the operator mode (`#operator`); the script shows one. */
const pageHtml = (config: PageConfig): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Yike AI</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<main>
<div id="customer" ${customerSettings(config)} hidden>
${CUSTOMER_HTML}
</div>
<div id="operator" hidden>
${OPERATOR_HTML}
</div>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const SCRIPT_HASH = hashOf(PAGE_SCRIPT);
const STYLE_HASH = hashOf(PAGE_STYLE);
const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** The Content-Security-Policy of the page for this deployment. */
export function pageContentSecurityPolicy(config: Pick<Config, 'oss' | 'uploads' | 'ice'>): string {
  const uploadOrigin = config.uploads.bucket ? new URL(uploadFormUrl(config, config.uploads.bucket)).origin : undefined;
  // The local cloud serves over http on loopback (its ICE serves the finished videos); a deployment never does.
  const local = [config.oss.endpoint, `${config.ice.protocol}://${config.ice.endpoint}`].some((url) => url !== undefined && LOOPBACK.test(new URL(url).origin));
  const loopback = local ? ' http://127.0.0.1:* http://localhost:*' : '';
  return [
    "default-src 'none'",
    `script-src ${SCRIPT_HASH}`,
    `style-src ${STYLE_HASH}`,
    `connect-src 'self'${uploadOrigin ? ` ${uploadOrigin}` : ''}`,
    `media-src https:${loopback}`,
    "img-src 'self' data:",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function pageResponse(config: PageConfig): ApiResponse {
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': pageContentSecurityPolicy(config),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    },
    body: pageHtml(config),
  };
}
