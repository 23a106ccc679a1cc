// @peculiar/x509 resolves its classes through tsyringe, which needs a Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { KeyObject, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/**
 * The local cloud's TLS: a self-signed CA and one server certificate it signs (for `localhost`, `127.0.0.1` and
 * `::1`), made with @peculiar/x509 (PeculiarVentures' X.509 library on WebCrypto; selfsigned 5.x is built on it), so
 * the stand-ins speak HTTPS as the cloud does. The clients under test trust the CA the way a real process would trust
 * a private CA: `NODE_EXTRA_CA_CERTS=<caPath>`, which Node reads when it starts (jest's global setup sets it for its
 * workers, `npm start` and `npm run bench` start themselves again with it: trustLocalCa()). Nothing here is a secret:
 * the key only ever serves 127.0.0.1.
 *
 * The files are made once per machine (LOCAL_TLS_DIR, default <tmpdir>/yike-fc-local-tls-v2; v1 held a CA whose DER
 * was written by hand, which is never reused) and shared by every process, written into a temporary folder first and
 * renamed into place, so two processes starting at once agree on one CA. Certificates are X.509 v3, ECDSA P-256 with
 * SHA-256 (RFC 5280; ecdsa-with-SHA256 is RFC 5758).
 */
export interface LocalTls {
  /** The CA certificate (PEM): what NODE_EXTRA_CA_CERTS names. */
  caPath: string;
  ca: string;
  /** The server certificate (PEM) and its private key (PKCS#8 PEM). */
  cert: string;
  key: string;
}

const VERSION_DIR = 'yike-fc-local-tls-v2';
const FILES = { ca: 'ca.pem', cert: 'server.pem', key: 'server-key.pem' } as const;
const VALID_YEARS = 20;
const DAY_MS = 86_400_000;
const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const ORGANIZATION = 'yike-fc local cloud';

/** The WebCrypto and key pair types @peculiar/x509 takes (the DOM's; Node's webcrypto is the same API). */
type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
type X509KeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

let cached: LocalTls | undefined;

/** The local CA and server certificate, made on first use. */
export async function localTls(dir = process.env.LOCAL_TLS_DIR ?? join(tmpdir(), VERSION_DIR)): Promise<LocalTls> {
  if (cached?.caPath === join(dir, FILES.ca)) return cached;
  if (!existsSync(join(dir, FILES.key))) await writeOnce(dir);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  cached = { caPath: join(dir, FILES.ca), ca: read(FILES.ca), cert: read(FILES.cert), key: read(FILES.key) };
  return cached;
}

/**
 * NODE_EXTRA_CA_CERTS is read once, when Node starts: a process that must trust the local CA (npm start, the bench)
 * calls this first; without the variable it runs itself again with it (same arguments, same stdio, signals passed
 * on) and returns false, and the caller stops. True when this process already trusts the CA.
 */
export async function trustLocalCa(): Promise<boolean> {
  const { caPath } = await localTls();
  if (process.env.NODE_EXTRA_CA_CERTS === caPath) return true;
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
  return false;
}

async function writeOnce(dir: string): Promise<void> {
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const made = await makeCertificates(new Date());
  const staging = mkdtempSync(join(parent, `${VERSION_DIR}-staging-`));
  writeFileSync(join(staging, FILES.ca), made.ca);
  writeFileSync(join(staging, FILES.cert), made.cert);
  writeFileSync(join(staging, FILES.key), made.key, { mode: 0o600 });
  try {
    renameSync(staging, dir);
  } catch {
    // Another process made them first (the folder exists): use theirs.
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A CA and a server certificate for the loopback names, valid from a day before `now`. */
export async function makeCertificates(now: Date): Promise<{ ca: string; cert: string; key: string }> {
  const crypto = webcrypto as unknown as X509Crypto;
  const [caKeys, serverKeys] = (await Promise.all([
    webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']),
    webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']),
  ])) as unknown as [X509KeyPair, X509KeyPair];
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime() + VALID_YEARS * 365 * DAY_MS);
  const caName = `O=${ORGANIZATION}, CN=yike-fc local CA`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: caName,
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const cert = await x509.X509CertificateGenerator.create(
    {
      issuer: ca.subject,
      subject: `O=${ORGANIZATION}, CN=localhost`,
      notBefore,
      notAfter,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
        await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const caPem = ca.toString('pem');
  const certPem = cert.toString('pem');
  // Checked here rather than trusted: a malformed certificate would only show as a TLS error far away.
  const caCert = new X509Certificate(caPem);
  if (!new X509Certificate(certPem).verify(caCert.publicKey) || !caCert.verify(caCert.publicKey))
    throw new Error('local TLS: certificate signature check failed');
  const key = KeyObject.from(serverKeys.privateKey as unknown as webcrypto.CryptoKey)
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { ca: `${caPem}\n`, cert: `${certPem}\n`, key };
}
