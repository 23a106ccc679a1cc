import type { HttpServices } from '../../../composition/http';
import { findJobContent, jobsBucket } from '../../../domain/lifecycle/job-lookup';
import { createJobRecordStore } from '../../../domain/lifecycle/job-record';
import type { ApiResponse } from '../../events/fc-http';
import { verifyShareLink } from '../tickets/signed-tokens';

/**
 * `GET /v/{token}`: the page a share link (`POST /jobs/{jobId}/share`) opens. It plays the job's video (its own copy,
 * signed anew for each view) with the Open Graph tags chat apps read for a preview (https://ogp.me: og:title,
 * og:description, og:type video.other, og:video, og:image when the job has an image output), and says the video was
 * made with AI (the Provisions on Deep Synthesis ask synthetic content to be labelled). Never cached: an erased job's
 * link answers 410 at once. A link that is not ours answers 404, one past its time or whose job was erased 410, and
 * neither says anything about the job.
 */
const TITLE = 'AI 生成的视频 · A video made with AI';
const LABEL = 'AI 生成 · Made with AI';
const DESCRIPTION = '本视频由人工智能合成 (深度合成)。This video was made with AI (deep synthesis).';

export async function sharePage(token: string, services: HttpServices, now: Date): Promise<ApiResponse> {
  const { secret } = services.config.tickets;
  const verified = secret === undefined ? { refused: 'invalid' as const } : await verifyShareLink(token, secret, now);
  if ('refused' in verified) {
    return verified.refused === 'expired' ? notice(410, '链接已过期 · This link has expired') : notice(404, '没有这个视频 · No such video');
  }
  const { jobId } = verified.link;
  const jobs = createJobRecordStore(services.recordStore(jobsBucket(services.config)), services.config.records.prefix);
  const [record, erasedAt] = await Promise.all([jobs.get(jobId), jobs.erasedAt(jobId)]);
  if (erasedAt !== undefined) return notice(410, '视频已删除 · This video was deleted');
  if (!record) return notice(404, '没有这个视频 · No such video');
  const content = await findJobContent(jobId, undefined, { ...services, now });
  if (content?.status !== 'ready') return notice(200, '视频还在制作中 · The video is still being made');
  const imageIndex = record.results.findIndex((result) => result.kind === 'image' && result.ownKey !== undefined);
  const poster = imageIndex >= 0 ? await findJobContent(jobId, imageIndex, { ...services, now }) : undefined;
  const posterUrl = poster?.status === 'ready' ? poster.url : undefined;
  return html(200, videoPage(content.url, posterUrl), [content.url, posterUrl]);
}

function videoPage(videoUrl: string, posterUrl: string | undefined): string {
  const meta = [
    ['og:title', TITLE],
    ['og:description', DESCRIPTION],
    ['og:type', 'video.other'],
    ['og:video', videoUrl],
    ['og:video:type', 'video/mp4'],
    ...(posterUrl ? [['og:image', posterUrl]] : []),
  ]
    .map(([property, content]) => `<meta property="${property}" content="${escapeHtml(content!)}">`)
    .join('\n');
  return `${head(TITLE, meta)}
<main><video src="${escapeHtml(videoUrl)}"${posterUrl ? ` poster="${escapeHtml(posterUrl)}"` : ''} controls playsinline preload="metadata"></video>
<p class="label">${LABEL}</p></main>
</body></html>`;
}

function notice(statusCode: number, message: string): ApiResponse {
  return html(statusCode, `${head(message, '')}\n<main><p>${escapeHtml(message)}</p><p class="label">${LABEL}</p></main>\n</body></html>`, []);
}

const head = (title: string, meta: string) => `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<meta name="description" content="${escapeHtml(DESCRIPTION)}">
${meta}
<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#111;color:#eee}main{max-width:720px;margin:0 auto;padding:16px;text-align:center}video{width:100%;max-height:80vh;background:#000}.label{display:inline-block;margin-top:8px;padding:2px 10px;border-radius:12px;background:#333;font-size:14px}</style>
</head><body>`;

/** The page loads nothing but the video and its poster, from their signed URLs' origins. */
function html(statusCode: number, body: string, urls: (string | undefined)[]): ApiResponse {
  const origins = [...new Set(urls.filter((url): url is string => url !== undefined).map((url) => new URL(url).origin))].join(' ') || "'none'";
  return {
    statusCode,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': `default-src 'none'; media-src ${origins}; img-src ${origins}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'Referrer-Policy': 'no-referrer',
      'X-Robots-Tag': 'noindex',
    },
    body,
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
