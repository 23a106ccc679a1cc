import { BUCKET, client, failureOf, server, useLocalOssServer } from './harness';

useLocalOssServer();

describe('local OSS server: injected faults act like the cloud after the client gave up', () => {
  afterEach(() => server.faults.clear());

  it('stores a held PUT once its hold ends, although its client timed out long before', async () => {
    // Arrange: the client waits 2 s; the server receives the request and holds it until the test releases it, so the
    // client gives up first however slow the machine is
    const key = 'records/held-put.json';
    const hold = server.faults.holdNext();

    // Act
    const pending = failureOf(client({ timeout: 2_000 }).put(key, Buffer.from('{"owner":"a"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } }));
    await hold.held;
    const failure = await pending;
    const rightAfter = server.listKeys(BUCKET).includes(key);
    hold.release();
    await server.idle();

    // Assert
    expect(failure).toMatchObject({ name: 'ResponseTimeoutError' });
    expect(rightAfter).toBe(false);
    expect(server.listKeys(BUCKET)).toContain(key);
    expect((await client().get(key)).content.toString()).toBe('{"owner":"a"}');
  });

  it('still refuses a held create-only PUT whose key another write took during the hold (FileAlreadyExists)', async () => {
    // Arrange
    const key = 'records/held-conflict.json';
    const hold = server.faults.holdNext();
    const held = failureOf(client({ timeout: 2_000 }).put(key, Buffer.from('{"owner":"a"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } }));

    // Act
    await hold.held;
    await client().put(key, Buffer.from('{"owner":"b"}'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
    await held;
    hold.release();
    await server.idle();

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
