/**
 * Bucket CORS for the local OSS server, as OSS does it: PutBucketCors / GetBucketCors / DeleteBucketCors on
 * "/?cors", preflight OPTIONS on any object, and Access-Control-* headers on actual requests whose Origin a rule
 * allows. Rules are evaluated in order and the first match wins.
 *
 * Sources:
 * - [PUTCORS]  OSS "PutBucketCors" / "GetBucketCors" / "DeleteBucketCors": CORSConfiguration of CORSRule (AllowedOrigin,
 *              AllowedMethod GET|PUT|DELETE|POST|HEAD, AllowedHeader, ExposeHeader, MaxAgeSeconds) and ResponseVary;
 *              at most 10 rules; one "*" per AllowedOrigin / AllowedHeader; no "*" in ExposeHeader.
 *              GetBucketCors without a configuration: 404 NoSuchCORSConfiguration.
 * - [OPTIONS]  OSS "Options" (https://www.alibabacloud.com/help/en/oss/developer-reference/options): request headers
 *              Origin, Access-Control-Request-Method, Access-Control-Request-Headers; response headers
 *              Access-Control-Allow-Origin/-Methods/-Headers/-Expose-Headers/-Max-Age, none of them when refused.
 * - [CORSOPT]  ossutil "cors-options" (https://www.alibabacloud.com/help/en/oss/developer-reference/cors-options): the
 *              first matching rule decides; origin, method and every requested header must match; no match answers
 *              403 AccessForbidden.
 * - [HTTP400]  OSS "HTTP 400 errors" (https://www.alibabacloud.com/help/en/oss/support/http-400-status-code): BadRequest
 *              "Insufficient information. Origin request header needed." / "... Request Access-Control-Request-Method
 *              header needed." for preflights missing those headers.
 * - [VARY]     alicloud_oss_bucket_cors response_vary (help.aliyun.com/document_detail/2779957.html): with ResponseVary
 *              true OSS returns "Vary: Origin" on every response; false (the default, and what ali-oss's
 *              putBucketCORS leaves) returns none.
 * - [ALIOSS]   ali-oss 6.23.0 lib/bucket.js putBucketCORS (writes the XML above without escaping values, no
 *              ResponseVary), getBucketCORS (reads CORSRule elements, lower-casing the first letter of each name).
 * The 403 messages are the ones OSS is seen answering (quoted from real answers in public posts); unverified in docs.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { OssRequestError } from './request-error';

/** One CORS rule, shaped as ali-oss's putBucketCORS takes it and getBucketCORS returns it (so either can use it). */
export interface OssCorsRule {
  allowedOrigin: string | string[];
  allowedMethod: string | string[];
  allowedHeader?: string | string[];
  exposeHeader?: string | string[];
  /** Seconds, as a decimal string (ali-oss's type). */
  maxAgeSeconds?: string;
}

export interface OssCorsConfiguration {
  rules: OssCorsRule[];
  /** OSS's ResponseVary: answer "Vary: Origin" on every response of the bucket. Default false. */
  responseVary?: boolean;
}

/** A rule as the server keeps it: lists, upper-case methods. */
interface CorsRule {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number | undefined;
}

interface CorsConfiguration {
  rules: CorsRule[];
  responseVary: boolean;
}

const MAX_CORS_RULES = 10;
const MAX_CORS_BODY_BYTES = 64 * 1024;
const CORS_METHODS = new Set(['GET', 'PUT', 'DELETE', 'POST', 'HEAD']);
const XML_CONTENT_TYPE = 'application/xml';
const NOT_ALLOWED_MESSAGE =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.";
const NOT_ENABLED_MESSAGE = 'CORSResponse: CORS is not enabled for this bucket.';

const malformedXml = (detail: string) =>
  new OssRequestError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.', {
    ErrorDetail: detail,
  });

/** CORS configurations per bucket, in memory (like the request log, they do not survive a restart). */
export class BucketCorsStore {
  private readonly configurations = new Map<string, CorsConfiguration>();

  constructor(initial: Readonly<Record<string, OssCorsRule[] | OssCorsConfiguration>> = {}) {
    for (const [bucket, value] of Object.entries(initial)) {
      const configuration = Array.isArray(value) ? { rules: value } : value;
      this.configurations.set(bucket, normalizeConfiguration(configuration));
    }
  }

  /** PUT/GET/DELETE /?cors; the request is already authenticated. */
  async handleApi(method: string, bucket: string, readBody: (limit: number) => Promise<Buffer | undefined>, res: ServerResponse): Promise<void> {
    switch (method) {
      case 'PUT': {
        const body = await readBody(MAX_CORS_BODY_BYTES);
        if (body === undefined) throw malformedXml(`The CORS configuration is larger than ${MAX_CORS_BODY_BYTES} bytes.`);
        this.configurations.set(bucket, parseCorsXml(body.toString('utf8')));
        res.writeHead(200, { 'Content-Length': 0 });
        res.end();
        return;
      }
      case 'GET': {
        const configuration = this.configurations.get(bucket);
        if (configuration === undefined) {
          throw new OssRequestError(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist.', { BucketName: bucket });
        }
        const xml = corsXml(configuration);
        res.writeHead(200, { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
        res.end(xml);
        return;
      }
      case 'DELETE':
        this.configurations.delete(bucket);
        res.writeHead(204);
        res.end();
        return;
      default:
        throw new OssRequestError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method });
    }
  }

  /** Answers a preflight OPTIONS [OPTIONS]: 200 with the Access-Control-* headers, or an OssRequestError. */
  preflight(bucket: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    const origin = headerText(headers.origin);
    const method = headerText(headers['access-control-request-method']);
    if (origin === '') throw new OssRequestError(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    if (method === '') throw new OssRequestError(400, 'BadRequest', 'Insufficient information. Request Access-Control-Request-Method header needed.');
    const configuration = this.configurations.get(bucket);
    if (configuration === undefined) throw new OssRequestError(403, 'AccessForbidden', NOT_ENABLED_MESSAGE, { Method: method, ResourceType: 'Bucket' });
    const requestedHeaders = headerList(headerText(headers['access-control-request-headers']));
    const rule = configuration.rules.find((candidate) => ruleAllows(candidate, origin, method, requestedHeaders));
    if (configuration.responseVary) res.setHeader('Vary', 'Origin');
    if (rule === undefined) throw new OssRequestError(403, 'AccessForbidden', NOT_ALLOWED_MESSAGE, { Method: method, ResourceType: 'Object' });
    res.setHeader('Access-Control-Allow-Origin', allowOriginValue(rule, origin));
    res.setHeader('Access-Control-Allow-Methods', rule.allowedMethods.join(', '));
    if (requestedHeaders.length > 0) res.setHeader('Access-Control-Allow-Headers', requestedHeaders.join(', '));
    if (rule.exposeHeaders.length > 0) res.setHeader('Access-Control-Expose-Headers', rule.exposeHeaders.join(', '));
    if (rule.maxAgeSeconds !== undefined) res.setHeader('Access-Control-Max-Age', String(rule.maxAgeSeconds));
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  }

  /**
   * For an actual request: when its Origin matches a rule for its method, the response carries the CORS headers
   * (set now, so success and error answers both get them); otherwise it is processed without them, as OSS does.
   */
  applyToActualRequest(bucket: string, method: string, headers: IncomingHttpHeaders, res: ServerResponse): void {
    const configuration = this.configurations.get(bucket);
    if (configuration === undefined) return;
    if (configuration.responseVary) res.setHeader('Vary', 'Origin');
    const origin = headerText(headers.origin);
    if (origin === '') return;
    const rule = configuration.rules.find((candidate) => ruleAllows(candidate, origin, method, []));
    if (rule === undefined) return;
    res.setHeader('Access-Control-Allow-Origin', allowOriginValue(rule, origin));
    res.setHeader('Access-Control-Allow-Methods', rule.allowedMethods.join(', '));
    if (rule.exposeHeaders.length > 0) res.setHeader('Access-Control-Expose-Headers', rule.exposeHeaders.join(', '));
    if (rule.maxAgeSeconds !== undefined) res.setHeader('Access-Control-Max-Age', String(rule.maxAgeSeconds));
  }
}

/** [CORSOPT]: origin (with "*" wildcards), method, and each requested header (case-insensitive, "*" wildcards). */
function ruleAllows(rule: CorsRule, origin: string, method: string, requestedHeaders: string[]): boolean {
  return (
    rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, origin, false)) &&
    rule.allowedMethods.includes(method.toUpperCase()) &&
    requestedHeaders.every((header) => rule.allowedHeaders.some((pattern) => wildcardMatch(pattern, header, true)))
  );
}

/** A rule allowing every origin answers "*"; any other match echoes the request's Origin. */
function allowOriginValue(rule: CorsRule, origin: string): string {
  return rule.allowedOrigins.includes('*') ? '*' : origin;
}

function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('*')
    .map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function headerList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item !== '');
}

function normalizeConfiguration(configuration: OssCorsConfiguration): CorsConfiguration {
  if (configuration.rules.length === 0) throw malformedXml('A CORS configuration needs at least one CORSRule.');
  if (configuration.rules.length > MAX_CORS_RULES) throw malformedXml(`A CORS configuration holds at most ${MAX_CORS_RULES} rules.`);
  return { rules: configuration.rules.map(normalizeRule), responseVary: configuration.responseVary === true };
}

function normalizeRule(rule: OssCorsRule): CorsRule {
  const allowedOrigins = toList(rule.allowedOrigin);
  const allowedMethods = toList(rule.allowedMethod).map((method) => method.toUpperCase());
  const allowedHeaders = toList(rule.allowedHeader);
  const exposeHeaders = toList(rule.exposeHeader);
  if (allowedOrigins.length === 0) throw malformedXml('Each CORSRule needs an AllowedOrigin.');
  if (allowedMethods.length === 0) throw malformedXml('Each CORSRule needs an AllowedMethod.');
  for (const method of allowedMethods) {
    if (!CORS_METHODS.has(method)) {
      throw new OssRequestError(400, 'InvalidArgument', `Unsupported AllowedMethod ${method}: allowed are GET, PUT, DELETE, POST and HEAD.`, {
        ArgumentName: 'AllowedMethod',
        ArgumentValue: method,
      });
    }
  }
  for (const [name, values] of [
    ['AllowedOrigin', allowedOrigins],
    ['AllowedHeader', allowedHeaders],
  ] as const) {
    const invalid = values.find((value) => value.split('*').length > 2);
    if (invalid !== undefined)
      throw new OssRequestError(400, 'InvalidArgument', `${name} may hold at most one "*".`, { ArgumentName: name, ArgumentValue: invalid });
  }
  const wildcardExpose = exposeHeaders.find((value) => value.includes('*'));
  if (wildcardExpose !== undefined) {
    throw new OssRequestError(400, 'InvalidArgument', 'ExposeHeader may not hold "*".', { ArgumentName: 'ExposeHeader', ArgumentValue: wildcardExpose });
  }
  let maxAgeSeconds: number | undefined;
  if (rule.maxAgeSeconds !== undefined && rule.maxAgeSeconds !== '') {
    maxAgeSeconds = Number(rule.maxAgeSeconds);
    if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
      throw new OssRequestError(400, 'InvalidArgument', 'MaxAgeSeconds must be a non-negative integer.', {
        ArgumentName: 'MaxAgeSeconds',
        ArgumentValue: String(rule.maxAgeSeconds),
      });
    }
  }
  return { allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders, maxAgeSeconds };
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => item.trim()).filter((item) => item !== '');
}

/** Reads the PutBucketCors body [PUTCORS]; the schema is flat enough that element scanning is exact. */
function parseCorsXml(xml: string): CorsConfiguration {
  const root = /<CORSConfiguration(?:\s[^>]*)?>([\s\S]*)<\/CORSConfiguration>/.exec(xml);
  if (!root) throw malformedXml('The root element must be CORSConfiguration.');
  const content = root[1] as string;
  const rules = [...content.matchAll(/<CORSRule>([\s\S]*?)<\/CORSRule>/g)].map((match) => {
    const ruleXml = match[1] as string;
    const maxAge = elementTexts(ruleXml, 'MaxAgeSeconds');
    return {
      allowedOrigin: elementTexts(ruleXml, 'AllowedOrigin'),
      allowedMethod: elementTexts(ruleXml, 'AllowedMethod'),
      allowedHeader: elementTexts(ruleXml, 'AllowedHeader'),
      exposeHeader: elementTexts(ruleXml, 'ExposeHeader'),
      ...(maxAge.length > 0 ? { maxAgeSeconds: maxAge[0] as string } : {}),
    };
  });
  const vary = elementTexts(content.replace(/<CORSRule>[\s\S]*?<\/CORSRule>/g, ''), 'ResponseVary')[0];
  if (vary !== undefined && vary !== 'true' && vary !== 'false') {
    throw new OssRequestError(400, 'InvalidArgument', 'ResponseVary must be true or false.', { ArgumentName: 'ResponseVary', ArgumentValue: vary });
  }
  return normalizeConfiguration({ rules, responseVary: vary === 'true' });
}

/** GetBucketCors's answer [PUTCORS]. */
function corsXml(configuration: CorsConfiguration): string {
  const element = (name: string, value: string) => `    <${name}>${escapeXml(value)}</${name}>`;
  const rules = configuration.rules.map((rule) =>
    [
      '  <CORSRule>',
      ...rule.allowedOrigins.map((value) => element('AllowedOrigin', value)),
      ...rule.allowedMethods.map((value) => element('AllowedMethod', value)),
      ...rule.allowedHeaders.map((value) => element('AllowedHeader', value)),
      ...rule.exposeHeaders.map((value) => element('ExposeHeader', value)),
      ...(rule.maxAgeSeconds !== undefined ? [element('MaxAgeSeconds', String(rule.maxAgeSeconds))] : []),
      '  </CORSRule>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<CORSConfiguration>',
    ...rules,
    `  <ResponseVary>${configuration.responseVary}</ResponseVary>`,
    '</CORSConfiguration>',
    '',
  ].join('\n');
}

function elementTexts(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((match) => unescapeXml((match[1] as string).trim()));
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '').trim();
}
