import fc from 'fast-check';
import { createHandler } from '../../functions/oss-submit/index';
import { startIceServer, type LocalIceServer } from '../../local/ice/server';
import { startOssServer, type LocalOssServer } from '../../local/oss/server';
import { InputError } from '../../shared/runtime/errors';
import { parseInvocation } from '../../shared/triggers/events/parse';
import { asFcPayload, loadEvent } from '../helpers/fixtures';
import { fcContext, tempDir } from '../helpers/local-cloud';
import { reportFigures } from '../helpers/reliability';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 424242);
const IMAGE_SUFFIXES = ['.jpg', '.jpeg', '.png', '.webp'];

const ossRecord = loadEvent('oss-trigger-put').events[0];
const cloudEvent = loadEvent('eventbridge-oss-put');

/** A documented sample with one field replaced by anything: the near-misses a parser must still handle. */
function mutated(sample: Record<string, any>): fc.Arbitrary<unknown> {
  const paths = [
    [],
    ['oss'],
    ['oss', 'object'],
    ['oss', 'object', 'key'],
    ['oss', 'object', 'size'],
    ['oss', 'bucket'],
    ['eventName'],
    ['data'],
    ['data', 'oss', 'object', 'key'],
    ['specversion'],
    ['source'],
  ];
  return fc.tuple(fc.constantFrom(...paths), fc.anything()).map(([path, value]) => {
    const copy = structuredClone(sample);
    if (path.length === 0) return value;
    let target: any = copy;
    for (const step of path.slice(0, -1)) {
      if (!target || typeof target !== 'object') return copy;
      target = target[step];
    }
    if (target && typeof target === 'object') target[path[path.length - 1]!] = value;
    return copy;
  });
}

const payload = fc.oneof(
  fc.anything(),
  fc.json().map((text) => Buffer.from(text)),
  fc.string().map((text) => Buffer.from(text)),
  mutated({ events: [ossRecord] }),
  mutated(cloudEvent),
  fc.array(fc.oneof(mutated(cloudEvent), fc.anything(), fc.record({ imageUrl: fc.string(), app: fc.string() }, { requiredKeys: [] })), { maxLength: 4 }),
);

/** Keys that must never be submitted: not an image, or under the records prefix (our own writes). */
const forbiddenKey = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom('', '.jpg', '.png', '.txt', '.json')).map(([body, suffix]) => `.yike-jobs/${body}${suffix}`),
  fc
    .tuple(
      fc.constantFrom('uploads/female/', 'uploads/', '', 'a/'),
      fc.string({ maxLength: 20 }),
      fc.constantFrom('', '.txt', '.json', '.gif', '.mp4', '.jpg.txt', '.jpg ', '.pngx', '/', '.jpg/'),
    )
    .map(([prefix, body, suffix]) => `${prefix}${body}${suffix}`)
    .filter((key) => key.length > 0 && !key.startsWith('/') && !IMAGE_SUFFIXES.some((suffix) => key.toLowerCase().endsWith(suffix))),
);

describe('the event parser and the upload function under property-based fuzzing (fast-check)', () => {
  it(`either returns work items or throws a typed MALFORMED_EVENT, for any payload (${RUNS} runs)`, () => {
    const outcomes = { items: 0, malformed: 0 };
    fc.assert(
      fc.property(payload, (input) => {
        let parsed: ReturnType<typeof parseInvocation>;
        try {
          parsed = parseInvocation(input);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          expect(error).toMatchObject({ code: 'MALFORMED_EVENT', reason: expect.any(String), retryable: false });
          outcomes.malformed += 1;
          return;
        }
        outcomes.items += 1;
        expect(parsed.items.length).toBeGreaterThan(0);
        for (const item of parsed.items) expect(['object', 'request', 'invalid']).toContain(item.kind);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    reportFigures('fuzz-events-parse', { runs: RUNS, seed: SEED, ...outcomes });
  });

  describe('oss-submit against the local ICE and OSS endpoints', () => {
    let ice: LocalIceServer;
    let oss: LocalOssServer;
    let dir: ReturnType<typeof tempDir>;

    beforeAll(async () => {
      dir = tempDir('fuzz-events-');
      ice = await startIceServer();
      oss = await startOssServer({ dataDir: dir.path, buckets: ['yike-uploads'] });
    });
    afterAll(async () => {
      await Promise.all([ice.close(), oss.close()]);
      dir.remove();
    });

    it(`never submits for a non-image key or a key under RECORDS_PREFIX, from the OSS trigger or EventBridge (${RUNS} runs)`, async () => {
      // Arrange
      const handler = createHandler({ env: { ICE_ENDPOINT: ice.url, OSS_ENDPOINT: oss.localhostUrl, APP_ROUTES: '{"":"female"}' }, sink: () => undefined });
      const reasons: Record<string, number> = {};

      // Act + Assert
      await fc.assert(
        fc.asyncProperty(
          forbiddenKey,
          fc.boolean(),
          fc.constantFrom('ObjectCreated:PutObject', 'ObjectCreated:PostObject', 'ObjectCreated:CopyObject'),
          async (key, viaEventBridge, eventName) => {
            const record = { ...structuredClone(ossRecord), eventName };
            record.oss.object.key = key;
            const event = viaEventBridge
              ? { ...structuredClone(cloudEvent), data: { ...structuredClone(cloudEvent.data), oss: record.oss } }
              : { events: [record] };
            const result = await handler(asFcPayload(event), fcContext());
            expect(result.submitted).toEqual([]);
            for (const skipped of result.skipped) {
              expect(['not-an-image', 'records-prefix']).toContain(skipped.reason);
              reasons[skipped.reason] = (reasons[skipped.reason] ?? 0) + 1;
            }
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );

      // Assert
      expect(ice.calls()).toEqual([]);
      reportFigures('fuzz-events-keys', { runs: RUNS, seed: SEED, skipped: reasons, iceCalls: ice.calls().length });
    }, 120_000);
  });
});
