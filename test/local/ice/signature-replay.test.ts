import { MAX_BODY_BYTES } from '../../../local/ice/server';
import { captureSignedRequest, closeIceServers, ice, replay, submitFields } from './harness';

afterEach(closeIceServers);

describe('signature checks on requests replayed byte for byte', () => {
  it('accepts a signed request once and rejects the replay with SignatureNonceUsed', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const first = await replay(server, raw);
    const second = await replay(server, raw);

    // Assert
    expect(first.status).toBe(200);
    expect(second).toMatchObject({ status: 400, body: { Code: 'SignatureNonceUsed' } });
    expect(server.jobs()).toHaveLength(1);
  });

  it('rejects a body that does not hash to x-acs-content-sha256 with ContentSha256NotMatched', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, body: Buffer.from(raw.body.toString('utf8').replace('sys-ao-smith-1', 'sys-ao-smith-2')) });

    // Assert
    expect(answer).toMatchObject({ status: 400, body: { Code: 'ContentSha256NotMatched' } });
    expect(server.jobs()).toEqual([]);
  });

  it('rejects a changed query string with SignatureDoesNotMatch', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { query: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, url: raw.url.replace('sys-ao-smith-1', 'sys-ao-smith-2') });

    // Assert
    expect(answer).toMatchObject({ status: 400, body: { Code: 'SignatureDoesNotMatch' } });
  });

  it('rejects an x-acs-* header that is not signed, and a request without Authorization', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });
    const { authorization: _removed, ...unsignedHeaders } = raw.headers;

    // Act
    const extraHeader = await replay(server, { ...raw, headers: { ...raw.headers, 'x-acs-extra': 'not signed' } });
    const noAuthorization = await replay(server, { ...raw, headers: unsignedHeaders });

    // Assert
    expect(extraHeader).toMatchObject({ status: 400, body: { Code: 'IncompleteSignature', Message: expect.stringContaining('x-acs-extra') } });
    expect(noAuthorization).toMatchObject({ status: 400, body: { Code: 'MissingAuthorization' } });
  });

  it('answers 413 RequestEntityTooLarge for a body over the limit', async () => {
    // Arrange
    const server = await ice();
    const raw = await captureSignedRequest('SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const answer = await replay(server, { ...raw, body: Buffer.alloc(MAX_BODY_BYTES + 1, 'a') });

    // Assert
    expect(answer).toMatchObject({ status: 413, body: { Code: 'RequestEntityTooLarge', HostId: 'ice.cn-shanghai.aliyuncs.com' } });
  });
});
