import { InputError } from '../../runtime/errors';

/**
 * The one place an image URL from a caller is judged. It is parsed once (WHATWG URL, as Node and ICE's
 * fetchers do) and only the parsed, re-serialized `href` travels on, so no other parser can read the
 * caller's string differently (backslashes, userinfo, fragments: parser-differential SSRF).
 */
export interface ImageUrlRules {
  /** Lower-case host names; undefined = any host (pipeline events without an allowlist). */
  allowedHosts?: ReadonlySet<string>;
  /** Object key prefixes a URL may not point under (our own records and results). */
  forbiddenKeyPrefixes: readonly string[];
  /** Query strings are refused unless allowed (ALLOW_IMAGE_URL_QUERY). */
  allowQuery: boolean;
}

const MAX_URL_LENGTH = 2048;
/** C0 controls, DEL, C1 controls, and every Unicode space (incl. NBSP, line/paragraph separators, BOM). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;

export function normalizeImageUrl(input: string, rules: ImageUrlRules, path = 'imageUrl'): string {
  const refuse = (reason: string): never => {
    throw new InputError('IMAGE_NOT_ALLOWED', `${path}: ${reason}`, [{ path, message: reason }]);
  };
  if (input.length > MAX_URL_LENGTH) refuse(`longer than ${MAX_URL_LENGTH} characters`);
  // Checked on the raw string: the WHATWG parser silently strips or rewrites these, other parsers do not.
  if (CONTROL_OR_SPACE.test(input)) refuse('contains a control or whitespace character');
  if (input.includes('\\')) refuse('contains a backslash');
  if (input.includes('#')) refuse('has a fragment ("#")');
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return refuse('is not a valid URL');
  }
  if (url.protocol !== 'https:') refuse('must be an https URL');
  if (url.username !== '' || url.password !== '' || authorityOf(input).includes('@')) refuse('must not carry userinfo ("user@")');
  // WHATWG drops the default port, so an explicit :443 is the same URL; any other port is refused.
  if (url.port !== '') refuse(`port ${url.port} is not allowed (443 only)`);
  if (rules.allowedHosts && !rules.allowedHosts.has(url.hostname)) refuse(`host "${url.hostname}" is not in ALLOWED_IMAGE_HOSTS`);
  if ((url.search !== '' || input.includes('?')) && !rules.allowQuery) refuse('has a query string (set ALLOW_IMAGE_URL_QUERY=true to allow)');
  const key = objectKeyOf(url.pathname);
  if (key === undefined) refuse('path is not valid percent-encoding');
  if (key === '' || key!.endsWith('/')) refuse('names no object (empty path)');
  const forbidden = rules.forbiddenKeyPrefixes.find((prefix) => key!.startsWith(prefix));
  if (forbidden) refuse(`points under "${forbidden}", where this service keeps its own records`);
  return url.href;
}

/** The object key a normalized image URL (normalizeImageUrl's href) names: its path without the leading "/", decoded. */
export function objectKeyOfUrl(href: string): string {
  return objectKeyOf(new URL(href).pathname) ?? '';
}

/** The object key a path names: without the leading "/", percent-decoded (undefined when undecodable). */
function objectKeyOf(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname.replace(/^\//, ''));
  } catch {
    return undefined;
  }
}

/** The authority part of the raw string (between "//" and the next "/", "?" or "#"). */
function authorityOf(input: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(input);
  return match ? match[1]! : '';
}
