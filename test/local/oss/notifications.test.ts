import { loadEvent } from '../../helpers/fixtures';
import { eventually } from '../../helpers/waiting';
import {
  ACCOUNT_ID,
  AWKWARD_KEYS,
  BUCKET,
  client,
  logLines,
  md5Hex,
  notifications,
  onObjectCreated,
  REGION,
  useLocalOssServer,
  waitForNotification,
} from './harness';

useLocalOssServer();

/** The set of key paths of a JSON value, e.g. "events.0.oss.object.eTag". */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...keyPaths(child, path)];
  });
}

describe('local OSS server driven by ali-oss: trigger notifications', () => {
  it('calls onObjectCreated with an FC OSS trigger event shaped exactly like the reference sample', async () => {
    // Arrange
    const key = AWKWARD_KEYS[0] as string;
    const bytes = Buffer.from('a portrait, new version');
    const reference = loadEvent('oss-trigger-put');

    // Act
    const put = await client().put(key, bytes);
    const notification = await waitForNotification(key);
    const event = JSON.parse(notification.payload.toString('utf8'));

    // Assert
    expect(notification).toMatchObject({ bucket: BUCKET, key, eventName: 'ObjectCreated:PutObject' });
    expect(keyPaths(event).sort()).toEqual(keyPaths(reference).sort());
    expect(event.events[0]).toMatchObject({
      eventName: 'ObjectCreated:PutObject',
      eventSource: 'acs:oss',
      region: REGION,
      oss: {
        bucket: { arn: `acs:oss:${REGION}:${ACCOUNT_ID}:${BUCKET}`, name: BUCKET, ownerIdentity: ACCOUNT_ID },
        object: { key, size: bytes.length, eTag: md5Hex(bytes) },
      },
      responseElements: { requestId: (put.res.headers as Record<string, string>)['x-oss-request-id'] },
      userIdentity: { principalId: ACCOUNT_ID },
    });
    expect(event.events[0].eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('reports the change in size as deltaSize when a key is overwritten', async () => {
    // Arrange
    const key = 'uploads/overwritten.jpg';
    await client().put(key, Buffer.alloc(10));
    await waitForNotification(key);
    notifications.length = 0;

    // Act
    await client().put(key, Buffer.alloc(4));
    const event = JSON.parse((await waitForNotification(key)).payload.toString('utf8'));

    // Assert
    expect(event.events[0].oss.object).toMatchObject({ size: 4, deltaSize: -6 });
  });

  it('never fails a PUT because onObjectCreated throws', async () => {
    // Arrange
    onObjectCreated(() => {
      throw new Error('subscriber is broken');
    });

    // Act
    const put = await client().put('uploads/subscriber-broken.jpg', Buffer.from('x'));
    await waitForNotification('uploads/subscriber-broken.jpg');
    // The failure is logged once the subscriber has thrown, after the answer went out.
    await eventually(() => logLines.some((line) => line.message === 'onObjectCreated failed'), 'the onObjectCreated failure logged');

    // Assert
    expect(put.res.status).toBe(200);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'onObjectCreated failed', key: 'uploads/subscriber-broken.jpg' }));
  });
});
