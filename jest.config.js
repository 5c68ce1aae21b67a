/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The packed-tarball tests install packages for minutes: `npm run test:package` runs them.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/package/'],
  transform: {
    '^.+\\.[tj]s$': [
      'ts-jest',
      { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs', moduleResolution: 'node10' }, diagnostics: { ignoreCodes: [151002] } },
    ],
  },
  // ESM-only packages are compiled to CommonJS like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!(@prisma/schema-engine-wasm|openid-client|oauth4webapi|jose|oidc-provider)/)'],
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
