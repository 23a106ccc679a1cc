/**
 * An OSS error answer raised by the local OSS server's helper modules (PostObject, CORS): the server turns it into
 * the same <Error> XML as its own errors. Kept apart from server.ts so those modules need not import the server.
 */
export class OssRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}
