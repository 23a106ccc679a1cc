import { BUCKET, client, failureOf, server, useLocalOssServer } from './harness';

useLocalOssServer();

describe('local OSS server: injected faults act like the cloud after the client gave up', () => {
  afterEach(() => server.faults.clear());

  it('stores a held PUT once its hold ends, although its client timed out long before', async () => {
    // Arrange: the client waits 100 ms; the server receives the request and holds it 300 ms
    const key = 'records/held-put.json';
    server.faults.delayNext(1, 300);

    // Act
    const failure = await failureOf(client({ timeout: 100 }).put(key, Buffer.from('{"owner":"a"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } }));
    const rightAfter = server.listKeys(BUCKET).includes(key);
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Assert
    expect(failure).toMatchObject({ name: 'ResponseTimeoutError' });
    expect(rightAfter).toBe(false);
    expect(server.listKeys(BUCKET)).toContain(key);
    expect((await client().get(key)).content.toString()).toBe('{"owner":"a"}');
  });

  it('still refuses a held create-only PUT whose key another write took during the hold (FileAlreadyExists)', async () => {
    // Arrange
    const key = 'records/held-conflict.json';
    server.faults.delayNext(1, 300);
    const held = failureOf(client({ timeout: 100 }).put(key, Buffer.from('{"owner":"a"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } }));

    // Act
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client().put(key, Buffer.from('{"owner":"b"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
    await held;
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Assert
    expect((await client().get(key)).content.toString()).toBe('{"owner":"b"}');
    expect(
      server
        .requests()
        .filter((request) => request.key === key && request.method === 'PUT')
        .map((request) => request.code),
    ).toEqual([undefined, 'FileAlreadyExists']);
  });
});
