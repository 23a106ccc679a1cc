import { InputError } from '../../../../shared/runtime/errors';
import { parseInvocation } from '../../../../shared/triggers/events/parse';
import { asFcPayload, loadEvent } from '../../../helpers/fixtures';

describe('parsing the events the submit function receives', () => {
  it('reads the documented OSS trigger event from the Buffer FC delivers', () => {
    // Arrange
    const payload = asFcPayload(loadEvent('oss-trigger-put'));

    // Act
    const parsed = parseInvocation(payload);

    // Assert
    expect(parsed).toEqual({
      source: 'oss-trigger',
      items: [
        {
          kind: 'object',
          source: 'oss://yike-uploads/uploads/female/portrait-001.jpg',
          object: {
            bucket: 'yike-uploads',
            key: 'uploads/female/portrait-001.jpg',
            eTag: '688A7BF4F233DC9C88A80BF985AB7329',
            size: 122539,
            eventName: 'PutObject',
            region: 'cn-shanghai',
            eventTime: '2026-11-20T06:45:43.000Z',
          },
        },
      ],
    });
  });

  it('reads an EventBridge CloudEvent carrying an OSS record', () => {
    // Act
    const parsed = parseInvocation(asFcPayload(loadEvent('eventbridge-oss-put')));

    // Assert
    expect(parsed.source).toBe('eventbridge');
    expect(parsed.items).toEqual([
      {
        kind: 'object',
        source: 'oss://yike-uploads/uploads/male/portrait-002.png',
        object: expect.objectContaining({ key: 'uploads/male/portrait-002.png', eTag: 'A1B2C3D4E5F60718293A4B5C6D7E8F90', size: 80211 }),
      },
    ]);
  });

  it('parses each element of a batch on its own, keeping invalid ones as reportable items', () => {
    // Arrange
    const good = loadEvent('eventbridge-oss-put');
    const broken = loadEvent('eventbridge-oss-put');
    delete broken.data.oss.object.key;
    const stranger = { hello: 'world' };
    const pipeline = { image: { bucket: 'yike-uploads', key: 'uploads/x.jpg' }, app: 'male' };

    // Act
    const parsed = parseInvocation(asFcPayload([good, broken, stranger, pipeline]));

    // Assert
    expect(parsed.source).toBe('batch');
    expect(parsed.items.map((item) => item.kind)).toEqual(['object', 'invalid', 'invalid', 'request']);
    expect(parsed.items[1]).toMatchObject({ source: 'event[1]', error: { code: 'INVALID_EVENT', details: [{ path: '[1].data.oss.object.key' }] } });
    expect(parsed.items[2]).toMatchObject({ source: 'event[2]', error: { code: 'UNKNOWN_EVENT_SHAPE' } });
    expect(parsed.items[3]).toEqual({ kind: 'request', source: 'oss://yike-uploads/uploads/x.jpg', request: pipeline });
  });

  it('keeps every record of a multi-record OSS event and reports the malformed one by path', () => {
    // Arrange
    const event = loadEvent('oss-trigger-put');
    const second = structuredClone(event.events[0]);
    second.oss.object.size = 'big';
    event.events.push(second);

    // Act
    const parsed = parseInvocation(asFcPayload(event));

    // Assert
    expect(parsed.items[0]!.kind).toBe('object');
    expect(parsed.items[1]).toMatchObject({ kind: 'invalid', error: { details: [{ path: 'events[1].oss.object.size' }] } });
  });

  it('rejects malformed JSON with a clear error instead of crashing', () => {
    // Act
    const act = () => parseInvocation(Buffer.from('{"events": ['));

    // Assert
    expect(act).toThrow(InputError);
    expect(act).toThrow(/^The event is not valid JSON/);
  });

  it('rejects a single event of unknown shape, naming the shapes it accepts', () => {
    expect(() => parseInvocation(asFcPayload({ Records: [] }))).toThrow(
      /is not an OSS trigger event .* an EventBridge OSS CloudEvent .* or a pipeline event .*; it has: Records/,
    );
  });

  it('rejects a CloudEvent from another source', () => {
    // Arrange
    const event = loadEvent('eventbridge-oss-put');
    event.source = 'acs.mns';

    // Act / Assert
    expect(() => parseInvocation(asFcPayload(event))).toThrow(/source/);
  });

  it('keeps plain keys with spaces, "+", "%" and CJK exactly as delivered', () => {
    // Arrange
    const event = loadEvent('oss-trigger-put');
    event.events[0].oss.object.key = 'uploads/女/照片 1+2%.JPG';

    // Act
    const [item] = parseInvocation(asFcPayload(event)).items;

    // Assert
    expect(item).toMatchObject({ kind: 'object', object: { key: 'uploads/女/照片 1+2%.JPG' } });
  });

  it('takes a key that looks URL-encoded as delivered: FC sends plain keys, nothing is decoded', () => {
    // Arrange
    const event = loadEvent('oss-trigger-put');
    event.events[0].oss.object.key = 'uploads/%E5%A5%B3/%E7%85%A7%E7%89%87+1%2B2%25.JPG';

    // Act
    const [item] = parseInvocation(asFcPayload(event)).items;

    // Assert
    expect(item).toMatchObject({ kind: 'object', object: { key: 'uploads/%E5%A5%B3/%E7%85%A7%E7%89%87+1%2B2%25.JPG' } });
  });

  it('validates pipeline events strictly, naming the misspelt field', () => {
    // Act
    const act = () => parseInvocation(asFcPayload({ imageUrl: 'https://a.example/x.jpg', ap: 'male' }));

    // Assert
    expect(act).toThrow(/event is invalid: \(root\): Unrecognized key: "ap"/);
  });
});
