import type OSS from 'ali-oss';

/**
 * The bucket CORS rule the page needs (docs/page.md, "What the deployment needs"): the page's origin may POST the upload form.
 * OSS answers the browser's form POST with Access-Control-Allow-Origin only when a rule like this matches; without
 * it the upload still lands, but the page cannot read OSS's answer.
 */
export function pageCorsRules(pageOrigin: string): OSS.CORSRule[] {
  return [{ allowedOrigin: new URL(pageOrigin).origin, allowedMethod: 'POST', allowedHeader: '*', maxAgeSeconds: '600' }];
}
