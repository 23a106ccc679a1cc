import { ACS3_ALGORITHM } from '../../../local/acs3';
import { callIce, clientFor, closeIceServers, ice, rejectionOf, STS, submitFields } from './harness';

afterEach(closeIceServers);

describe('inspection routes and secrecy', () => {
  it('shows jobs and calls over HTTP without a signature and resets them', async () => {
    // Arrange
    const server = await ice();
    await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Act
    const jobs: any = await (await fetch(`${server.url}/__local/jobs`)).json();
    const calls: any = await (await fetch(`${server.url}/__local/calls`)).json();
    const reset = await fetch(`${server.url}/__local/reset`, { method: 'POST' });

    // Assert
    expect(jobs.jobs).toMatchObject([{ appId: 'sys-ao-smith-1', fieldsFrom: 'body' }]);
    expect(calls.calls).toMatchObject([{ action: 'SubmitYikeAIAppJob', status: 200 }]);
    expect(reset.status).toBe(200);
    expect(server.jobs()).toEqual([]);
    expect(server.calls()).toEqual([]);
  });

  it('never puts the secret, the security token or the Authorization header in its log or its call records', async () => {
    // Arrange
    const lines: Array<Record<string, unknown>> = [];
    const server = await ice({ log: (line) => lines.push(line) });
    const client = clientFor(server.endpoint);

    // Act
    await callIce(client, 'SubmitYikeAIAppJob', { body: submitFields(), query: { SecurityToken: STS.securityToken as string } });
    await rejectionOf(callIce(clientFor(server.endpoint, { ...STS, accessKeySecret: 'wrong-secret' }), 'SubmitYikeAIAppJob', { body: submitFields() }));

    // Assert
    const recorded = JSON.stringify({ lines, calls: server.calls(), jobs: server.jobs() });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(recorded).not.toContain(STS.accessKeySecret);
    expect(recorded).not.toContain('wrong-secret');
    expect(recorded).not.toContain(STS.securityToken);
    expect(recorded).not.toContain(ACS3_ALGORITHM);
    expect(server.calls()[0]?.fields.SecurityToken).toBe('[redacted]');
  });

  it('listens on 127.0.0.1 only and gives openapi-client an endpoint without a scheme', async () => {
    // Arrange / Act
    const server = await ice();

    // Assert
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.endpoint).toBe(`127.0.0.1:${server.port}`);
  });
});
