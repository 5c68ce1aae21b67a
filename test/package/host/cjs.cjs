const library = require('oidc-entitlements');
const express = require('express');
const { MemoryStore } = require('express-session');

const { createOidcEntitlements, loadConfig, EntitlementsUnavailableError, OidcEntitlementsError } = library;
const error = new EntitlementsUnavailableError('timeout', 'no answer');
const oe = createOidcEntitlements({ prisma: { _activeProvider: 'sqlite' }, config: loadConfig({}), sessionStore: new MemoryStore() });
express().use(oe.session).use('/api/v1.0', oe.authRouter, oe.apiRouter);
oe.close().then(() =>
  console.log(
    JSON.stringify({
      exports: Object.keys(library).sort(),
      errorCode: error.code,
      derivesFromBase: error instanceof OidcEntitlementsError,
      routers: Object.keys(oe)
        .filter((name) => name.endsWith('Router'))
        .sort(),
    }),
  ),
);
