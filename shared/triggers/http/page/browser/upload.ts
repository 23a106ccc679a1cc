import type { UploadForm } from './api';
import { fail, type PageError } from './errors';

/**
 * Posts the form OSS signed for us, then the file (last, as PostObject requires). Answers a warning when the browser
 * hid OSS's answer (no CORS rule for the origin this page is open at: the upload itself may have worked), and throws
 * OSS's refusal. The origin is the one the browser uses: `127.0.0.1` and `localhost` are two origins to it.
 */
export async function postToBucket(upload: UploadForm, file: File): Promise<PageError | null> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', file);
  let response: Response;
  try {
    response = await fetch(upload.url, { method: 'POST', body: form, mode: 'cors', credentials: 'omit' });
  } catch {
    // Without a CORS rule the upload itself may have worked: the browser only hides OSS's answer. Follow it anyway.
    return fail('CORS_BLOCKED', `Add the CORS rule from docs/page.md for ${location.origin} to the bucket. Looking for the job anyway...`);
  }
  if (!response.ok) {
    const text = await response.text();
    const code = /<Code>([^<]*)<\/Code>/.exec(text);
    const message = /<Message>([^<]*)<\/Message>/.exec(text);
    throw fail('UPLOAD_REFUSED', (code ? `${code[1]}: ` : '') + (message ? message[1] : `HTTP ${response.status}`));
  }
  return null;
}
