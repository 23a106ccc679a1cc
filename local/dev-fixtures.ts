// Made-up values the local cloud shares with its tools and tests; they grant nothing anywhere else.

/** The STS triple every local stand-in accepts and every local tool signs with (FC's context.credentials shape). */
export const LOCAL_STS_CREDENTIALS = Object.freeze({
  accessKeyId: 'STS.LocalDevAccessKeyId',
  accessKeySecret: 'local-dev-secret',
  securityToken: 'local-dev-security-token',
});

/** A 1x1 PNG: the demo upload of `npm start` and the tests' image. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
