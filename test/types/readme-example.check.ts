// The README's "Using the library in your Express 5 app" example, type-checked by `npm run typecheck`
// (the example app of examples/ is type-checked against the published declarations by `npm run test:package`).
import express from 'express';
import type { PrismaClient } from '../../generated/postgresql/client';
import { createOidcEntitlements, loadConfig } from '../../src/index';

declare const prisma: PrismaClient;

export function readmeExample(): void {
  const oe = createOidcEntitlements({ prisma, config: loadConfig() }); // the environment and ./.env
  const app = express();
  app.use(oe.session); // express-session + Passport: req.user
  app.use('/api/v1.0', oe.authRouter); // authenticate/, callback/, logout/
  app.get('/things/', oe.requireEntitlement('can_access'), (req, res) => {
    if (!req.user) return res.status(401).json({ detail: 'Authentication required' });
    res.json({ hello: req.user.email });
  });
  app.listen(3000);
}
