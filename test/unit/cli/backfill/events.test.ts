import { backfillIdempotencyKey, ossTriggerEventFor, pipelineEventFor } from '../../../../cli/backfill/events';
import type { ListedObject } from '../../../../cli/backfill/types';
import { objectRecordKey } from '../../../../shared/domain/submissions/record-keys';
import { parseInvocation } from '../../../../shared/triggers/events/parse';
import { loadEvent } from '../../../helpers/fixtures';
import { BUCKET, CONFIG, object } from './fixtures';

describe('backfill events', () => {
  it('makes an OSS trigger event that the function parses into the same job record as the original upload', () => {
    // Arrange
    const original = loadEvent('oss-trigger-put');
    const record = original.events[0];
    const listed: ListedObject = {
      name: record.oss.object.key,
      size: record.oss.object.size,
      etag: `"${record.oss.object.eTag}"`,
      lastModified: record.eventTime,
    };

    // Act
    const event = JSON.parse(ossTriggerEventFor(BUCKET, listed, CONFIG).toString('utf8'));
    const [item] = parseInvocation(Buffer.from(JSON.stringify(event))).items;
    const [originalItem] = parseInvocation(original).items;

    // Assert
    expect(Object.keys(event.events[0]).sort()).toEqual(Object.keys(record).sort());
    expect(Object.keys(event.events[0].oss).sort()).toEqual(Object.keys(record.oss).sort());
    expect(Object.keys(event.events[0].oss.object).sort()).toEqual(Object.keys(record.oss.object).sort());
    expect(item).toMatchObject({ kind: 'object', object: { eventName: 'PutObject', eTag: record.oss.object.eTag, eventTime: '2026-11-20T06:45:43.000Z' } });
    if (item?.kind !== 'object' || originalItem?.kind !== 'object') throw new Error('expected object items');
    expect(objectRecordKey('.yike-jobs/', item.object)).toBe(objectRecordKey('.yike-jobs/', originalItem.object));
  });

  it('sends keys as listed, so a key with spaces, "+" and CJK arrives unchanged', () => {
    // Arrange
    const listed = object('uploads/女/a b+c.jpg');

    // Act
    const [item] = parseInvocation(ossTriggerEventFor(BUCKET, listed, CONFIG)).items;

    // Assert
    expect(item).toMatchObject({ kind: 'object', object: { key: 'uploads/女/a b+c.jpg' } });
  });

  it('makes a pipeline event with an idempotency key per object version and app', () => {
    // Act
    const [item] = parseInvocation(pipelineEventFor(BUCKET, object('uploads/x.jpg'), 'male')).items;

    // Assert
    expect(item).toEqual({
      kind: 'request',
      source: `oss://${BUCKET}/uploads/x.jpg`,
      request: {
        image: { bucket: BUCKET, key: 'uploads/x.jpg' },
        app: 'male',
        idempotencyKey: `backfill:${BUCKET}/uploads/x.jpg@688A7BF4F233DC9C88A80BF985AB7329:male`,
      },
    });
  });

  it('hashes an idempotency key that would be longer than the function accepts', () => {
    // Act
    const key = backfillIdempotencyKey(BUCKET, object(`uploads/${'k'.repeat(400)}.jpg`), 'female');
    const [item] = parseInvocation(pipelineEventFor(BUCKET, object(`uploads/${'k'.repeat(400)}.jpg`), 'female')).items;

    // Assert
    expect(key).toMatch(/^backfill:sha256:[0-9a-f]{64}$/);
    expect(item?.kind).toBe('request');
  });
});
