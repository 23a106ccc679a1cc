/** FC 3.0 request ids, as the local HTTP trigger gateway and the InvokeFunction stand-in hand them out. */
import { randomBytes } from 'node:crypto';

/** Request ids look like "1-64f6cd87-1a2b3c4d5e6f7a8b9c0d1e2f": epoch seconds in hex, then 12 random bytes. */
const REQUEST_ID_VERSION = '1';
const REQUEST_ID_RANDOM_BYTES = 12;
const REQUEST_ID_SECONDS_HEX_DIGITS = 8;
const MS_PER_SECOND = 1000;

/** An FC-3.0-like request id for the given time. */
export function newFcRequestId(now: Date = new Date()): string {
  const seconds = Math.floor(now.getTime() / MS_PER_SECOND)
    .toString(16)
    .padStart(REQUEST_ID_SECONDS_HEX_DIGITS, '0');
  return `${REQUEST_ID_VERSION}-${seconds}-${randomBytes(REQUEST_ID_RANDOM_BYTES).toString('hex')}`;
}
