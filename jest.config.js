/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  // Bundles under dist/ are rebuilt once per run so CLI and bundle tests never see stale code.
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  // The page's script is made by the build (shared/triggers/http/page/page-script.d.ts); from source, by this helper.
  // http-submit, wherever a test or the local cloud loads it, hands each answer to the OpenAPI check
  // (test/helpers/http-submit-checked.ts, openapi-check.ts): a response its document does not describe fails the test.
  moduleNameMapper: {
    '^\\./page-script$': '<rootDir>/test/helpers/page-script.js',
    '^(.*)/functions/http-submit/index$': '<rootDir>/test/helpers/http-submit-checked.ts',
  },
  // A hang detector, not a speed limit: tests await events (test/helpers/waiting.ts), and a 2-core machine that other
  // work keeps busy runs them several times slower than a quiet one. Tests that do much work set their own, larger one.
  testTimeout: 60000,
  // Most tests wait on sockets and timers (fault injection, timeouts): two workers overlap those waits on CI's 2 cores.
  maxWorkers: 2,
  // Always in workers, even for one test file: NODE_EXTRA_CA_CERTS (set by the global setup for the local CA, see
  // local/tls.ts) is read when a process starts, so only workers started after the setup trust the local HTTPS.
  // Jest runs tests in band unless a worker memory limit is set; this one is high enough never to restart a worker.
  workerIdleMemoryLimit: '4GB',
  // Every JSON log line is also collected for the secrets check that runs when the run ends (a counted test).
  setupFiles: ['<rootDir>/test/helpers/log-tee.js', '<rootDir>/test/helpers/no-cloud.js'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/openapi-setup.ts'],
  // CI prints a plain totals line for the landing; see test/helpers/totals-reporter.js.
  reporters: [
    '<rootDir>/test/helpers/openapi-reporter.js',
    '<rootDir>/test/helpers/secrets-reporter.js',
    'default',
    '<rootDir>/test/helpers/totals-reporter.js',
  ],
};
