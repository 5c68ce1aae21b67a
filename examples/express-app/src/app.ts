import express from 'express';
import { createOidcEntitlements, EntitlementsUnavailableError, loadConfig, type OidcEntitlements } from 'oidc-entitlements';
import { prisma } from './db.js';

// The settings come from the environment and ./.env (OIDC_ISSUER, OIDC_CLIENT_ID, ENTITLEMENTS_BACKEND, ...).
const oe: OidcEntitlements = createOidcEntitlements({ prisma, config: loadConfig() });

const app = express();
app.set('trust proxy', 1); // behind a TLS-terminating proxy: secure cookies in production
app.use(oe.session); // express-session (the `sessions` table) + Passport: `req.user`
app.use('/api/v1.0', oe.authRouter); // authenticate/, callback/, logout/
if (process.env.MOUNT_LA_SUITE_API === 'true') app.use('/api/v1.0', oe.apiRouter); // the La Suite REST surface, if you want it

app.get('/', (req, res) => {
  res
    .type('html')
    .send(req.user ? `<p>Logged in as ${req.user.email}. <a href="/domains/">My domains</a></p>` : '<a href="/api/v1.0/authenticate/">Log in</a>');
});

// The app's own route, behind the entitlements gate: the mail domains the user administers.
app.get('/domains/', oe.requireEntitlement('can_access'), async (req, res) => {
  if (!req.user) {
    res.status(401).json({ detail: 'Authentication credentials were not provided.' });
    return;
  }
  const accesses = await prisma.mailDomainAccess.findMany({ where: { userId: req.user.id, role: 'ADMIN' }, include: { maildomain: true } });
  res.json({ email: req.user.email, domains: accesses.map((access) => access.maildomain.name).sort() });
});

// What the entitlements service says right now (from the cache when fresh).
app.get('/entitlements/', async (req, res) => {
  if (!req.user) {
    res.status(401).json({ detail: 'Authentication credentials were not provided.' });
    return;
  }
  try {
    res.json(await oe.getEntitlements({ sub: req.user.sub ?? '', email: req.user.email }));
  } catch (error) {
    if (!(error instanceof EntitlementsUnavailableError)) throw error;
    res.status(503).json({ detail: 'Entitlements service unavailable', code: error.code });
  }
});

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const server = app.listen(port, host, () => console.log(`example app on http://${host}:${port}/`));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void oe.close().then(() => prisma.$disconnect());
  });
}
