// Made-up values the local cloud shares with its tools and tests; they grant nothing anywhere else.

/** The STS triple every local stand-in accepts (it lives with the tools that sign with it: cli/local-cloud.ts). */
export { LOCAL_STS_CREDENTIALS } from '../cli/local-cloud';

/** A 1x1 PNG: the demo upload of `npm start` and the tests' image. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
