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
  testTimeout: 20000,
  // CI prints a plain totals line for the landing; see test/helpers/totals-reporter.js.
  reporters: ['default', '<rootDir>/test/helpers/totals-reporter.js'],
};
