import { carriesMetadata, metadataFieldValue, metadataOfObject } from '../../../../shared/domain/uploads/upload-metadata';

describe("a browser upload's metadata, kept as the object's user metadata", () => {
  it('round-trips through the hex of its UTF-8 JSON, which holds only what OSS allows in a metadata value (letters and digits)', () => {
    // Arrange
    const metadata = { customerId: 'c-42', campaign: '双十一', note: 'line\nbreak "quoted"' };

    // Act
    const value = metadataFieldValue(metadata);

    // Assert
    expect(value).toMatch(/^[0-9a-f]+$/);
    expect(metadataOfObject({ 'yike-metadata': value }, 'oss://b/k')).toEqual(metadata);
    expect(metadataOfObject({ other: 'x' }, 'oss://b/k')).toBeUndefined();
  });

  it.each([
    ['not hex', 'zz'],
    ['hex of something that is not JSON', Buffer.from('{nope').toString('hex')],
    ['hex of JSON that is not metadata', Buffer.from('{"n":1}').toString('hex')],
  ])('refuses a value that is %s: no form of ours wrote it', (_case, value) => {
    expect(() => metadataOfObject({ 'yike-metadata': value }, 'oss://b/k')).toThrow(
      expect.objectContaining({ code: 'METADATA_INVALID', message: 'oss://b/k: its x-oss-meta-yike-metadata is not metadata a form of ours wrote' }),
    );
  });

  it.each([
    ['uploads/female/2026-12-07/meta-0f9e.png', true],
    ['uploads/female/2026-12-07/token-acme/meta-0f9e.png', true],
    ['meta-at-the-root.png', true],
    ['uploads/female/2026-12-07/0f9e.png', false],
    ['uploads/female/meta-folder/0f9e.png', false],
    ['uploads/female/2026-12-07/my-meta-0f9e.png', false],
  ])('says whether %s is an upload whose form carried metadata (%s)', (key, expected) => {
    expect(carriesMetadata(key)).toBe(expected);
  });
});
