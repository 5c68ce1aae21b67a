import * as library from 'oidc-entitlements';
import express from 'express';

const { createOidcEntitlements, loadConfig, EntitlementsUnavailableError, OidcEntitlementsError } = library;
const error = new EntitlementsUnavailableError('timeout', 'no answer');
const oe = createOidcEntitlements({
  prisma: { _activeProvider: 'sqlite' },
  config: loadConfig({}),
  sessionStore: new (await import('express-session')).MemoryStore(),
});
express().use(oe.session).use('/api/v1.0', oe.authRouter, oe.apiRouter);
await oe.close();
console.log(
  JSON.stringify({
    exports: Object.keys(library)
      .filter((name) => name !== 'default')
      .sort(),
    errorCode: error.code,
    derivesFromBase: error instanceof OidcEntitlementsError,
    routers: Object.keys(oe)
      .filter((name) => name.endsWith('Router'))
      .sort(),
  }),
);
