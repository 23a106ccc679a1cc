import { callIce, clientFor, closeIceServers, expectIceErrorBody, ice, IMAGE_URL, rejectionOf } from './harness';

afterEach(closeIceServers);

describe('RegisterMediaInfo on the local ICE endpoint, driven by the real @alicloud/openapi-client', () => {
  it('registers an image whose InputURL and MediaType travel in the query, as the ice-20201109 SDK sends them, and records where they came from', async () => {
    // Arrange
    const server = await ice();

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'RegisterMediaInfo', { query: { InputURL: IMAGE_URL, MediaType: 'image' } });

    // Assert
    expect(server.media()).toEqual([{ mediaId: answer.MediaId, inputUrl: IMAGE_URL, mediaType: 'image', registeredAt: expect.any(String) }]);
    expect(server.calls()).toMatchObject([
      { action: 'RegisterMediaInfo', status: 200, fields: { InputURL: IMAGE_URL, MediaType: 'image' }, placement: { InputURL: 'query', MediaType: 'query' } },
    ]);
  });

  it('also takes them in a form body, as the SDK sent them until 1.1.5 and as RPC endpoints read both', async () => {
    // Arrange
    const server = await ice();

    // Act
    const answer = await callIce(clientFor(server.endpoint), 'RegisterMediaInfo', { body: { InputURL: IMAGE_URL, MediaType: 'image' } });

    // Assert
    expect(server.media()).toEqual([expect.objectContaining({ mediaId: answer.MediaId, inputUrl: IMAGE_URL })]);
    expect(server.calls()[0]!.placement).toEqual({ InputURL: 'body', MediaType: 'body' });
  });

  it('answers MissingParameter naming InputURL, with status 400, when the request has none', async () => {
    // Arrange
    const server = await ice();

    // Act
    const error = await rejectionOf(callIce(clientFor(server.endpoint), 'RegisterMediaInfo', { query: { MediaType: 'image' } }));

    // Assert
    expectIceErrorBody(error, 'MissingParameter', 400);
    expect(error.data.Message).toBe('The input parameter "InputURL" that is mandatory for processing this request is not supplied.');
    expect(server.media()).toEqual([]);
  });
});
