/**
 * The local ICE endpoint's answers: IceApiError (thrown while handling a request), the error body every rejection
 * gets [ERRBODY], and the writers for JSON, HTML (an injected non-JSON failure) and plain inspection answers.
 * yike-assets.ts raises the same errors through the functions the server hands it.
 *
 * Sources:
 * - [CLIENT]  docs/platform-facts.md, "How @alicloud/openapi-client 0.4.15 sends and reads" (its src/client.ts, doRequest).
 * - [IMSERR]  ICE/IMS error code table, https://help.aliyun.com/document_detail/197855.html: MissingParameter and
 *             InvalidParameter (400) with their messages, ResourceNotFound (404).
 * - [COMMON]  Alibaba Cloud OpenAPI common error codes (help.aliyun.com document 53438): InvalidApi.NotFound (404).
 * - [ERRBODY] Error body {RequestId, HostId, Code, Message, Recommend} as IMM documents it ("Error handling").
 */
import type { ServerResponse } from 'node:http';

/** The region endpoint that ICE puts in HostId [ERRBODY]. */
const HOST_ID = 'ice.cn-shanghai.aliyuncs.com';
const RECOMMEND_URL = 'https://api.aliyun.com/troubleshoot';
const RECOMMEND_PRODUCT = 'ICE';
const JSON_CONTENT_TYPE = 'application/json;charset=utf-8';
const HTML_CONTENT_TYPE = 'text/html;charset=utf-8';
/** Alibaba gateways echo the request id in this header as well as in the body. */
const REQUEST_ID_HEADER = 'x-acs-request-id';
const HTTP_BAD_REQUEST = 400;
const HTTP_NOT_FOUND = 404;

/** What an RPC request is answered with: status, JSON body and (for calls()) the error code. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  code?: string;
}

/** An Alibaba-style error, thrown while handling a request and turned into an error body by the caller. */
export class IceApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** [IMSERR] MissingParameter. */
export function missingParameter(name: string): IceApiError {
  return new IceApiError(HTTP_BAD_REQUEST, 'MissingParameter', `The input parameter "${name}" that is mandatory for processing this request is not supplied.`);
}

/** [IMSERR] InvalidParameter, with the reason appended so a failing test says what was wrong. */
export function invalidParameter(name: string, reason: string): IceApiError {
  return new IceApiError(HTTP_BAD_REQUEST, 'InvalidParameter', `The specified parameter "${name}" is not valid. ${reason}`);
}

export function apiNotFound(): IceApiError {
  return new IceApiError(HTTP_NOT_FOUND, 'InvalidApi.NotFound', 'Specified api is not found, please check your url and method.');
}

/** [ERRBODY] with HostId of the Shanghai endpoint and the troubleshooting link. */
export function errorAnswer(requestId: string, status: number, code: string, message: string): Answer {
  const recommend = `${RECOMMEND_URL}?q=${encodeURIComponent(code)}&product=${RECOMMEND_PRODUCT}`;
  return { status, code, body: { RequestId: requestId, HostId: HOST_ID, Code: code, Message: message, Recommend: recommend } };
}

export function sendJson(res: ServerResponse, requestId: string, answer: Answer): void {
  res.writeHead(answer.status, { 'Content-Type': JSON_CONTENT_TYPE, [REQUEST_ID_HEADER]: requestId });
  res.end(JSON.stringify(answer.body));
}

/** What a proxy in front of a broken backend sends: the real client cannot parse it (SyntaxError, status lost [CLIENT]). */
export function sendHtml(res: ServerResponse, requestId: string, status: number): void {
  res.writeHead(status, { 'Content-Type': HTML_CONTENT_TYPE, [REQUEST_ID_HEADER]: requestId });
  res.end(`<html><head><title>${status}</title></head><body><h1>${status}</h1><p>local ICE stand-in: injected failure</p></body></html>`);
}

export function sendPlainJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE });
  res.end(JSON.stringify(body));
}
