import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const EVENTS_DIR = join(__dirname, '..', 'fixtures', 'events');

export type FixtureName = 'oss-trigger-put' | 'eventbridge-oss-put' | 'fc3-http-post-jobs' | 'fc3-context' | 'fc3-timer';

/** A fresh deep copy of a documented sample payload: mutate it freely for negative cases. */
export function loadEvent<T = any>(name: FixtureName): T {
  return JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as T;
}

/** What FC hands a Node.js built-in runtime handler for non-HTTP triggers: a Buffer of JSON. */
export function asFcPayload(event: unknown): Buffer {
  return Buffer.from(JSON.stringify(event));
}
