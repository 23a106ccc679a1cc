import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { makeCertificates, localTls } from '../../local/tls';
import { startOssServer } from '../../local/oss/server';
import { tempDir, localOssClient } from '../helpers/local-cloud';
import OpenApiClient, { Config } from '@alicloud/openapi-client';
import { callIce, clientFor, closeIceServers, ice, STS, submitFields } from './ice/harness';

afterEach(closeIceServers);

describe('the local cloud’s TLS (local/tls.ts)', () => {
  it('makes a CA and a loopback server certificate that the CA signed, with @peculiar/x509', async () => {
    // Act
    const made = await makeCertificates(new Date('2026-12-01T00:00:00Z'));

    // Assert
    const ca = new X509Certificate(made.ca);
    const server = new X509Certificate(made.cert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new Date(server.validFrom).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('makes 400 certificate sets in a row without one failure, each a CA that signed its server certificate', async () => {
    // Arrange: 2 in 400 of the hand-written DER's serial numbers were not minimal INTEGERs ("illegal padding")
    const failures: string[] = [];

    // Act
    for (let i = 0; i < 400; i++) {
      try {
        const made = await makeCertificates(new Date());
        const ca = new X509Certificate(made.ca);
        if (!new X509Certificate(made.cert).verify(ca.publicKey) || !ca.ca) failures.push(`${i}: not signed by a CA`);
      } catch (error) {
        failures.push(`${i}: ${(error as Error).message}`);
      }
    }

    // Assert
    expect(failures).toEqual([]);
  }, 120_000);

  it('is trusted by this test process through NODE_EXTRA_CA_CERTS, which the global setup points at the local CA', async () => {
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe((await localTls()).caPath);
  });

  it('lets the real openapi-client call the local ICE over https and http on one port, counting the TLS handshakes', async () => {
    // Arrange
    const server = await ice();
    const secure = new OpenApiClient(new Config({ ...STS, endpoint: server.endpoint, protocol: 'https', readTimeout: 10_000, connectTimeout: 10_000 }));

    // Act
    const overTls = await callIce(secure, 'SubmitYikeAIAppJob', { body: submitFields() });
    const plain = await callIce(clientFor(server.endpoint), 'SubmitYikeAIAppJob', { body: submitFields() });

    // Assert
    expect(overTls.JobId).toMatch(/^[0-9a-f]{32}$/);
    expect(plain.JobId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.calls().map((call) => call.tls)).toEqual([true, false]);
    expect(server.connections()).toEqual({ total: 2, tls: 1 });
  });

  it('lets ali-oss store and read objects in the local OSS over https', async () => {
    // Arrange
    const dir = tempDir('tls-oss-');
    const oss = await startOssServer({ dataDir: dir.path, buckets: ['yike-uploads'] });
    try {
      // Path-style on localhost, as createOssClient does for a local OSS_ENDPOINT (the certificate names only loopback).
      const client = localOssClient(oss.httpsLocalhostUrl, 'yike-uploads', { sldEnable: true } as { timeout?: number });

      // Act
      await client.put('uploads/tls.txt', Buffer.from('over TLS'), { headers: { 'Content-Type': 'text/plain' } });
      const read = await client.get('uploads/tls.txt');

      // Assert
      expect(read.content.toString('utf8')).toBe('over TLS');
      expect(oss.connections().tls).toBeGreaterThanOrEqual(1);
    } finally {
      await oss.close();
      dir.remove();
    }
  });

  it('refuses a client that does not trust the local CA', async () => {
    // Arrange
    const server = await ice();

    const { ca: otherCa } = await makeCertificates(new Date());

    // Act
    const error = await new Promise<Error>((resolve) => {
      const request = httpsRequest(`${server.httpsUrl}/__local/jobs`, { ca: otherCa }, () => resolve(new Error('answered')));
      request.on('error', resolve);
      request.end();
    });

    // Assert
    expect((error as { code?: string }).code).toMatch(
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|CERT_SIGNATURE_FAILURE/,
    );
  });
});
