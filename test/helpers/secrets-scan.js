// The secrets check over every log line the suite produced (see log-tee.js and secrets-reporter.js).
// CommonJS so the jest reporter can load it without a transform; test/unit/helpers/secrets-scan.test.ts proves it finds each kind.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** What a leak looks like in a log line, whatever the value. `[REDACTED]` (shared/runtime/logger.ts) never matches. */
const SECRET_PATTERNS = [
  { kind: 'bearer token', pattern: /\bBearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/=-]{6,}/ },
  {
    kind: 'signed-URL signature',
    pattern: /[?&](?:Signature|x-oss-signature|x-oss-credential|security-token|x-oss-security-token|OSSAccessKeyId)=(?!\[REDACTED\])[^&\s"\\]{4,}/i,
  },
  { kind: 'ACS3 authorization signature', pattern: /Signature=[0-9a-f]{64}/ },
  // JOB_WEBHOOK_SECRET's Standard Webhooks form (the base64 of at least 24 bytes is 32 characters).
  { kind: 'webhook secret', pattern: /\bwhsec_[A-Za-z0-9+/]{32,}/ },
  { kind: 'OSS authorization header', pattern: /\bOSS4?-?(?:HMAC-SHA256)?\s*[A-Za-z0-9.]+:[A-Za-z0-9+/=]{20,}/ },
  {
    kind: 'secret-named field with a value',
    pattern:
      /"(?:accessKeySecret|AccessKeySecret|securityToken|SecurityToken|authorization|Authorization|x-acs-security-token|x-oss-security-token)"\s*:\s*"(?!\[REDACTED\])[^"]+"/,
  },
];

/** The made-up STS triple of the local cloud (cli/local-cloud.ts): its secret parts must never be logged either. */
function knownSecrets(root = join(__dirname, '..', '..')) {
  const source = readFileSync(join(root, 'cli', 'local-cloud.ts'), 'utf8');
  const values = [];
  for (const field of ['accessKeySecret', 'securityToken']) {
    const match = new RegExp(`${field}:\\s*'([^']+)'`).exec(source);
    if (match) values.push({ kind: `local ${field}`, value: match[1] });
  }
  return values;
}

/** Findings in a text of log lines: [{line, kind, excerpt}] with the secret itself masked in the excerpt. */
function scanLogText(text, secrets = knownSecrets()) {
  const findings = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    for (const { kind, pattern } of SECRET_PATTERNS) {
      const match = pattern.exec(line);
      if (match) findings.push({ line: index + 1, kind, excerpt: mask(line, match[0]) });
    }
    for (const { kind, value } of secrets) {
      if (line.includes(value)) findings.push({ line: index + 1, kind, excerpt: mask(line, value) });
    }
  });
  return findings;
}

function mask(line, secret) {
  const at = line.indexOf(secret);
  const start = Math.max(0, at - 60);
  return `${line.slice(start, at)}${secret.slice(0, 4)}…(masked)${line.slice(at + secret.length, at + secret.length + 40)}`;
}

module.exports = { scanLogText };
