// Stands in for @alicloud/credentials in the function bundles (see scripts/build.mjs). The functions always give
// @alicloud/openapi-client explicit STS keys (FC's context.credentials, shared/adapters/openapi/client.ts), and for those
// openapi-client 0.4.x only builds `new Credential(new Config({ type: 'sts' | 'access_key', ... }))` and reads it back
// (getCredential, getAccessKeyId, getAccessKeySecret, getSecurityToken, getBearerToken, getType). This file does
// exactly what @alicloud/credentials 2.4.x does for those two types (providers static_sts / static_ak) and throws for
// every other one: the provider chain (ECS role, OIDC, profiles, URI) and its ~165 KiB (xml2js, xmlbuilder, sax, ini)
// are ~10 ms of every cold start a function never uses. Signing stays in openapi-client / openapi-util.
// test/integration/credentials-stub.test.ts compares it with the real package and with what openapi-client calls.
'use strict';

const SUPPORTED = { sts: 'static_sts', access_key: 'static_ak' };

function unsupported(what) {
  return new Error(
    `@alicloud/credentials is not bundled with this function (scripts/stubs/alicloud-credentials.cjs): ${what}. ` +
      'Give openapi-client explicit accessKeyId / accessKeySecret / securityToken (shared/adapters/openapi/client.ts).',
  );
}

/** @alicloud/credentials' Config: a plain model of the fields it is given. */
class Config {
  constructor(config) {
    if (config) Object.assign(this, config);
  }
}

/** @alicloud/credentials' CredentialModel (a tea Model: unset values are left out). */
class CredentialModel {
  constructor(map) {
    for (const [name, value] of Object.entries(map ?? {})) if (value !== undefined && value !== null) this[name] = value;
  }
}

/** The same values and providerName (sent as x-acs-credentials-provider) as the real StaticSTS/StaticAK providers. */
class Credential {
  constructor(config = null, provider = null) {
    if (provider) throw unsupported('a credentials provider object');
    if (!config) throw unsupported('the default credentials provider chain');
    if (!config.type) throw new Error('Missing required type option');
    const providerName = SUPPORTED[config.type];
    if (!providerName) throw unsupported(`credential type "${config.type}" (only access_key and sts are)`);
    if (!config.accessKeyId) throw new Error('the access key id is empty');
    if (!config.accessKeySecret) throw new Error('the access key secret is empty');
    if (config.type === 'sts' && !config.securityToken) throw new Error('the security token is empty');
    this.type = config.type;
    this.providerName = providerName;
    this.accessKeyId = config.accessKeyId;
    this.accessKeySecret = config.accessKeySecret;
    this.securityToken = config.type === 'sts' ? config.securityToken : undefined;
  }

  // biome-ignore lint/suspicious/useAwait: the package's Credential answers these with promises
  async getAccessKeyId() {
    return this.accessKeyId;
  }

  // biome-ignore lint/suspicious/useAwait: the package's Credential answers these with promises
  async getAccessKeySecret() {
    return this.accessKeySecret;
  }

  // biome-ignore lint/suspicious/useAwait: the package's Credential answers these with promises
  async getSecurityToken() {
    return this.securityToken;
  }

  getBearerToken() {
    return undefined;
  }

  getType() {
    return this.type;
  }

  // biome-ignore lint/suspicious/useAwait: the package's Credential answers these with promises
  async getCredential() {
    return new CredentialModel({
      accessKeyId: this.accessKeyId,
      accessKeySecret: this.accessKeySecret,
      securityToken: this.securityToken,
      bearerToken: undefined,
      type: this.type,
      providerName: this.providerName,
    });
  }
}

module.exports = { __esModule: true, default: Credential, Config, CredentialModel };
