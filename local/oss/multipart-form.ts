/**
 * A small buffered multipart/form-data parser (RFC 7578) for the local OSS server's PostObject. The body is already
 * in memory (capped by the caller), so the parts are plain slices of it; nothing here is streaming or clever.
 */

export interface FormPart {
  /** The name from Content-Disposition, as sent (OSS compares names case-insensitively; the caller decides). */
  name: string;
  /** Present for file parts (even when empty, as browsers send it for an empty file input). */
  filename?: string;
  /** The part's own Content-Type header, if any. */
  contentType?: string;
  data: Buffer;
}

export class MalformedMultipartError extends Error {}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
const DASHES = Buffer.from('--');

/** The boundary parameter of a multipart/form-data Content-Type; undefined when the type is something else. */
export function multipartBoundary(contentType: string): string | undefined {
  const [mediaType = '', ...params] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const param of params) {
    const equals = param.indexOf('=');
    if (equals === -1) continue;
    if (param.slice(0, equals).trim().toLowerCase() !== 'boundary') continue;
    const value = param.slice(equals + 1).trim();
    const boundary = value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
    return boundary === '' ? undefined : boundary;
  }
  return undefined;
}

/** The parts in body order; throws MalformedMultipartError when the body is not well-formed multipart. */
export function parseMultipartForm(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.concat([CRLF, delimiter]);
  // The first delimiter opens the body or follows a preamble line.
  let position = body.subarray(0, delimiter.length).equals(delimiter) ? 0 : body.indexOf(nextDelimiter);
  if (position === -1) throw new MalformedMultipartError('no boundary delimiter found');
  if (position !== 0) position += CRLF.length;
  const parts: FormPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + DASHES.length).equals(DASHES)) return parts;
    // Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
    while (body[position] === 0x20 || body[position] === 0x09) position += 1;
    if (!body.subarray(position, position + CRLF.length).equals(CRLF)) throw new MalformedMultipartError('delimiter not followed by CRLF');
    position += CRLF.length;
    const headersEnd = body.indexOf(HEADER_END, position - CRLF.length);
    if (headersEnd === -1) throw new MalformedMultipartError('part headers never end');
    const headers = parseHeaders(body.subarray(position, Math.max(position, headersEnd)).toString('utf8'));
    const dataStart = headersEnd + HEADER_END.length;
    const dataEnd = body.indexOf(nextDelimiter, dataStart - CRLF.length);
    if (dataEnd === -1) throw new MalformedMultipartError('part never closed by a delimiter');
    parts.push(formPart(headers, body.subarray(dataStart, Math.max(dataStart, dataEnd))));
    position = dataEnd + CRLF.length;
  }
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  if (text === '') return headers;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MalformedMultipartError(`malformed part header line ${JSON.stringify(line)}`);
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function formPart(headers: Map<string, string>, data: Buffer): FormPart {
  const disposition = headers.get('content-disposition');
  if (disposition === undefined) throw new MalformedMultipartError('part without Content-Disposition');
  const [type = '', ...rest] = splitParams(disposition);
  if (type.toLowerCase() !== 'form-data') throw new MalformedMultipartError(`Content-Disposition ${type} is not form-data`);
  const params = new Map<string, string>();
  for (const param of rest) {
    const equals = param.indexOf('=');
    if (equals === -1) continue;
    params.set(param.slice(0, equals).trim().toLowerCase(), unquote(param.slice(equals + 1).trim()));
  }
  const name = params.get('name');
  if (name === undefined) throw new MalformedMultipartError('part without a name');
  const filename = params.get('filename');
  const contentType = headers.get('content-type');
  return { name, data, ...(filename !== undefined ? { filename } : {}), ...(contentType !== undefined ? { contentType } : {}) };
}

/** Splits at ";" outside quoted strings. */
function splitParams(value: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] as string;
    if (char === '\\' && quoted && i + 1 < value.length) {
      current += char + (value[i + 1] as string);
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === ';' && !quoted) {
      pieces.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  pieces.push(current.trim());
  return pieces;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}
