/** @type {import('jest').Config} */
const base = require('./jest.config.js');

/** `npm run test:package`: the packed tarball installed as a host app installs it (test/package/). */
module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  roots: ['<rootDir>/test/package'],
  testTimeout: 120_000,
};
