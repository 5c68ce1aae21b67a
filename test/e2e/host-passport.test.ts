import session, { MemoryStore } from 'express-session';
import { Passport } from 'passport';
import { Browser } from '../support/browser';
import { PROVIDERS_UNDER_TEST } from '../support/databases';
import { useLoginHarness } from '../support/login-harness';

declare module 'express-session' {
  interface SessionData {
    messages?: string[];
  }
}

/*
 * A host that wires express-session and Passport itself, and takes only the strategy: a refused login
 * reaches Passport as `done(null, false, info)`, so `failureRedirect` and `failureMessage` work; a
 * login that passes syncs the rows as the library's own routes do.
 */
describe.each(PROVIDERS_UNDER_TEST)('a host wiring Passport itself, on %s', (provider) => {
  const t = useLoginHarness(provider, {}, (db) => ({
    mount: async (app, lib) => {
      const passport = new Passport();
      passport.use('oidc', await lib.strategy());
      passport.serializeUser((user, done) => done(null, user.id));
      passport.deserializeUser((id: string, done) => {
        db.prisma.user.findUnique({ where: { id } }).then((user) => done(null, user ?? false), done);
      });
      app.use(session({ secret: 'a host secret of at least 32 characters', resave: false, saveUninitialized: false, store: new MemoryStore() }));
      app.use(passport.initialize(), passport.session());
      app.get('/api/v1.0/authenticate/', passport.authenticate('oidc'));
      app.get('/api/v1.0/callback/', passport.authenticate('oidc', { successRedirect: '/', failureRedirect: '/refused', failureMessage: true }));
      app.get('/refused', (req, res) => {
        res.status(403).json({ messages: req.session.messages ?? [] });
      });
    },
  }));

  it('logs a person in and syncs the ADMIN rows', async () => {
    await t.db.prisma.mailDomain.create({ data: { name: 'alice.example.fr' } });
    t.h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['alice.example.fr'] });
    const browser = t.h.browser();
    const page = await t.h.login(browser, 'alice');
    expect(page.url).toBe(`${t.h.appUrl}/`);
    expect(await t.h.whoami(browser)).toBe('alice@example.fr');
    const rows = await t.db.prisma.mailDomainAccess.findMany({ include: { maildomain: true } });
    expect(rows.map((row) => [row.maildomain.name, row.role, row.source])).toEqual([['alice.example.fr', 'ADMIN', 'ENTITLEMENTS']]);
  });

  it('sends a refused login to failureRedirect with its message, without a session or a write', async () => {
    const alice = await t.db.prisma.user.create({ data: { sub: 'alice', email: 'alice@example.fr', isActive: false } });
    const browser = new Browser('application/json');
    const page = await t.h.login(browser, 'alice');
    expect(page.url).toBe(`${t.h.appUrl}/refused`);
    expect(JSON.parse(page.body)).toEqual({ messages: ['User account is disabled'] });
    expect(await t.h.whoami(browser)).toBeNull();
    expect(await t.db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } })).toEqual(alice);
    expect(t.h.dc.requests).toHaveLength(0);
  });
});
