import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The local cloud's TLS: a self-signed CA and one server certificate it signs (for `localhost`, `127.0.0.1` and
 * `::1`), made with node:crypto alone (no openssl, no package), so the stand-ins speak HTTPS as the cloud does. The
 * clients under test trust the CA the way a real process would trust a private CA: `NODE_EXTRA_CA_CERTS=<caPath>`,
 * which Node reads when it starts (jest's global setup sets it for its workers, `npm start` and `npm run bench`
 * start themselves again with it: trustLocalCa()). Nothing here is a secret: the key only ever serves 127.0.0.1.
 *
 * The files are made once per machine (LOCAL_TLS_DIR, default <tmpdir>/yike-fc-local-tls-v1) and shared by every
 * process, written into a temporary folder first and renamed into place, so two processes starting at once agree
 * on one CA. Certificates are X.509 v3, ECDSA P-256 with SHA-256 (RFC 5280; ecdsa-with-SHA256 is RFC 5758).
 */
export interface LocalTls {
  /** The CA certificate (PEM): what NODE_EXTRA_CA_CERTS names. */
  caPath: string;
  ca: string;
  /** The server certificate (PEM) and its private key (PKCS#8 PEM). */
  cert: string;
  key: string;
}

const VERSION_DIR = 'yike-fc-local-tls-v1';
const FILES = { ca: 'ca.pem', cert: 'server.pem', key: 'server-key.pem' } as const;
const VALID_YEARS = 20;
const DAY_MS = 86_400_000;

let cached: LocalTls | undefined;

/** The local CA and server certificate, made on first use. */
export function localTls(dir = process.env.LOCAL_TLS_DIR ?? join(tmpdir(), VERSION_DIR)): LocalTls {
  if (cached?.caPath === join(dir, FILES.ca)) return cached;
  if (!existsSync(join(dir, FILES.key))) writeOnce(dir);
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  cached = { caPath: join(dir, FILES.ca), ca: read(FILES.ca), cert: read(FILES.cert), key: read(FILES.key) };
  return cached;
}

/**
 * NODE_EXTRA_CA_CERTS is read once, when Node starts: a process that must trust the local CA (npm start, the bench)
 * calls this first; without the variable it runs itself again with it (same arguments, same stdio, signals passed
 * on) and returns false, and the caller stops. True when this process already trusts the CA.
 */
export function trustLocalCa(): boolean {
  const { caPath } = localTls();
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

function writeOnce(dir: string): void {
  const parent = join(dir, '..');
  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(join(parent, `${VERSION_DIR}-staging-`));
  const made = makeCertificates(new Date());
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
export function makeCertificates(now: Date): { ca: string; cert: string; key: string } {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serverKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime() + VALID_YEARS * 365 * DAY_MS);
  const caName = name('yike-fc local CA');
  const caKeyId = keyIdentifier(caKeys.publicKey);
  const ca = certificate({
    issuer: caName,
    subject: caName,
    notBefore,
    notAfter,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq(der(0x01, Buffer.from([0xff])))),
      // keyCertSign (bit 5) and cRLSign (bit 6): one byte 0b0000_0110, one unused bit.
      extension(OID.keyUsage, true, der(0x03, Buffer.from([0x01, 0x06]))),
      extension(OID.subjectKeyIdentifier, false, der(0x04, caKeyId)),
    ],
  });
  const cert = certificate({
    issuer: caName,
    subject: name('localhost'),
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(OID.basicConstraints, true, seq()),
      // digitalSignature (bit 0): 0b1000_0000, seven unused bits.
      extension(OID.keyUsage, true, der(0x03, Buffer.from([0x07, 0x80]))),
      extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
      extension(
        OID.subjectAltName,
        false,
        seq(der(0x82, Buffer.from('localhost')), der(0x87, Buffer.from([127, 0, 0, 1])), der(0x87, Buffer.from([...Array(15).fill(0), 1]))),
      ),
      extension(OID.subjectKeyIdentifier, false, der(0x04, keyIdentifier(serverKeys.publicKey))),
      extension(OID.authorityKeyIdentifier, false, seq(der(0x80, caKeyId))),
    ],
  });
  // Checked here rather than trusted: a malformed certificate would only show as a TLS error far away.
  const caCert = new X509Certificate(ca);
  if (!new X509Certificate(cert).verify(caCert.publicKey) || !caCert.verify(caCert.publicKey)) throw new Error('local TLS: certificate signature check failed');
  return { ca, cert, key: serverKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

function certificate(input: {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
}): string {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    input.issuer,
    seq(time(input.notBefore), time(input.notAfter)),
    input.subject,
    input.publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, seq(...input.extensions)),
  );
  const signature = sign('sha256', tbs, input.signingKey);
  const body = seq(tbs, algorithm, der(0x03, Buffer.concat([Buffer.from([0]), signature]))).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

function name(commonName: string): Buffer {
  const attribute = (type: string, value: string) => der(0x31, seq(oid(type), der(0x0c, Buffer.from(value, 'utf8'))));
  return seq(attribute(OID.organization, 'yike-fc local cloud'), attribute(OID.commonName, commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the SPKI ends with the 65-byte uncompressed point.
  return createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`));
}

function integer(bytes: Buffer): Buffer {
  return der(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >>> 7; value > 0; value >>>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function seq(...items: Buffer[]): Buffer {
  return der(0x30, Buffer.concat(items));
}

/** One DER tag-length-value. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else if (length < 0x100) header = [tag, 0x81, length];
  else header = [tag, 0x82, length >> 8, length & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}
