import type OSS from 'ali-oss';

/**
 * The bucket CORS rule the page needs (docs/page.md, "What the deployment needs"): the page's origin may POST the upload form.
 * OSS answers the browser's form POST with Access-Control-Allow-Origin only when a rule like this matches; without
 * it the upload still lands, but the page cannot read OSS's answer. The origin is the one the browser uses: a page
 * on loopback is opened as `127.0.0.1` or as `localhost` (two origins to a browser), so the local rule names both.
 */
export function pageCorsRules(pageOrigin: string): OSS.CORSRule[] {
  const { origin, hostname } = new URL(pageOrigin);
  const spellings = ['127.0.0.1', 'localhost'];
  const allowedOrigin = spellings.includes(hostname) ? spellings.map((host) => origin.replace(hostname, host)) : [origin];
  return [{ allowedOrigin, allowedMethod: 'POST', allowedHeader: '*', maxAgeSeconds: '600' }];
}
