// The README's "Using the library in your Express 5 app" example, type-checked by `npm run typecheck`.
import express from 'express';
import type { PrismaClient } from '../../generated/postgresql/client';
import { createOidcEntitlements, loadConfig } from '../../src/index';

declare const prisma: PrismaClient;

export function readmeExample(): void {
  const oe = createOidcEntitlements({ prisma, config: loadConfig() });
  const app = express();
  app.set('trust proxy', 1);
  app.use(oe.session);
  app.use('/api/v1.0', oe.authRouter);
  app.get('/api/v1.0/things/', oe.requireEntitlement('can_access'), (req, res) => {
    if (!req.user) return res.status(401).json({ detail: 'Authentication required' });
    res.json({ hello: req.user.email });
  });
  app.listen(3000);
}
