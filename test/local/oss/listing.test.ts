import type OSS from 'ali-oss';
import { ACCOUNT_ID, client, failureOf, md5Hex, useLocalOssServer } from './harness';

useLocalOssServer();

describe('local OSS server driven by ali-oss: listing', () => {
  it('pages through 25 keys ten at a time with prefix, max-keys and marker', async () => {
    // Arrange
    const oss = client();
    const keys = Array.from({ length: 25 }, (_, i) => `paging/${String(i).padStart(2, '0')}.jpg`);
    for (const key of keys) await oss.put(key, Buffer.from(key));
    await oss.put('paging-outside-prefix.jpg', Buffer.from('x'));

    // Act
    const pages: OSS.ListObjectResult[] = [];
    let marker: string | undefined;
    do {
      const page: OSS.ListObjectResult = await oss.list({ prefix: 'paging/', 'max-keys': 10, ...(marker ? { marker } : {}) }, {});
      pages.push(page);
      marker = page.isTruncated ? (page.nextMarker ?? undefined) : undefined;
    } while (marker);

    // Assert
    expect(pages.map((page) => page.objects.length)).toEqual([10, 10, 5]);
    expect(pages.map((page) => page.isTruncated)).toEqual([true, true, false]);
    expect(pages[0]?.nextMarker).toBe('paging/09.jpg');
    expect(pages.flatMap((page) => page.objects.map((object) => object.name))).toEqual(keys);
    expect(pages[0]?.objects[0]).toMatchObject({ etag: `"${md5Hex(Buffer.from(keys[0] ?? ''))}"`, size: keys[0]?.length, owner: { id: ACCOUNT_ID } });
  });

  it('pages with listV2 continuation tokens and rolls keys up into common prefixes at the delimiter', async () => {
    // Arrange
    const oss = client();
    const keys = ['tree/a.jpg', 'tree/b.jpg', 'tree/c/1.jpg', 'tree/c/2.jpg', 'tree/d/1.jpg', 'tree/e.jpg'];
    for (const key of keys) await oss.put(key, Buffer.from(key));

    // Act
    const first = await oss.listV2({ prefix: 'tree/', delimiter: '/', 'max-keys': 3 });
    const second = await oss.listV2({ prefix: 'tree/', delimiter: '/', 'max-keys': 3, 'continuation-token': first.nextContinuationToken ?? '' });

    // Assert
    expect(first.objects.map((object) => object.name)).toEqual(['tree/a.jpg', 'tree/b.jpg']);
    expect(first.prefixes).toEqual(['tree/c/']);
    expect(first).toMatchObject({ isTruncated: true, keyCount: 3 });
    expect(second.prefixes).toEqual(['tree/d/']);
    expect(second.objects.map((object) => object.name)).toEqual(['tree/e.jpg']);
    expect(second).toMatchObject({ isTruncated: false, keyCount: 2, nextContinuationToken: null });
  });

  it('refuses max-keys above 1000 with InvalidArgument', async () => {
    // Act
    const list = await failureOf(client().list({ 'max-keys': 1001 }, {}));

    // Assert
    expect(list).toMatchObject({ code: 'InvalidArgument', status: 400 });
  });
});
