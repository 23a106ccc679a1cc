/**
 * The local OSS server's error answers [ERRORS]: OssError (the one error class for the server and its helper
 * modules), the errors several operations raise, and the <Error> body that ali-oss parses, which for HEAD (no body)
 * goes base64-encoded into the x-oss-err header [ALIOSS].
 *
 * Sources:
 * - [ERRORS]   OSS error response format (<Error><Code/><Message/><RequestId/><HostId/>...</Error>) and the
 *              "HTTP 403 status code" error list.
 * - [ALIOSS]   ali-oss 6.23.0: errors are parsed from the XML body, and for HEAD (no body) from the base64 XML in
 *              the x-oss-err header (lib/client.js requestError).
 */
import type { ServerResponse } from 'node:http';
import type { OssAuthFailure } from './signature';
import { OssRequestError } from './request-error';
import { xmlDocument, XML_CONTENT_TYPE } from './xml';

/** [ALIOSS]: a HEAD answer has no body, so OSS puts the error XML, base64-encoded, in this header. */
const HEAD_ERROR_HEADER = 'x-oss-err';

/** An OSS error answer [ERRORS] (one class for the server and its helper modules). */
export class OssError extends OssRequestError {
  static from(failure: OssAuthFailure | OssRequestError): OssError {
    return new OssError(failure.status, failure.code, failure.message, failure.details);
  }
}

export const notImplemented = (what: string) => new OssError(501, 'NotImplemented', `The local OSS server does not implement ${what}.`);
export const invalidArgument = (message: string, details: Record<string, string> = {}) => new OssError(400, 'InvalidArgument', message, details);
export const noSuchKey = (key: string) => new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchBucket = (bucket: string) => new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });

/** [ERRORS] the XML body; [ALIOSS] for HEAD the same XML goes base64-encoded into x-oss-err. */
export function sendError(res: ServerResponse, method: string, requestId: string, hostId: string, error: OssError): void {
  if (res.headersSent) {
    // The answer had already begun (a failed download): all that is left is to cut it short.
    res.destroy();
    return;
  }
  const xml = xmlDocument([
    'Error',
    [['Code', error.code], ['Message', error.message], ['RequestId', requestId], ['HostId', hostId], ...Object.entries(error.details)],
  ]);
  if (method === 'HEAD') {
    res.writeHead(error.status, { 'Content-Type': XML_CONTENT_TYPE, [HEAD_ERROR_HEADER]: Buffer.from(xml).toString('base64') });
    res.end();
    return;
  }
  res.writeHead(error.status, { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** The HostId of an error answer: the bucket's endpoint, or the region's for a service-level request. */
export function hostIdOf(bucket: string | undefined, region: string): string {
  return bucket === undefined ? `oss-${region}.aliyuncs.com` : `${bucket}.oss-${region}.aliyuncs.com`;
}
