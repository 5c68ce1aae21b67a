import { Redis } from 'ioredis';
import { Browser } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { adminDomainsOf, createDomains } from '../support/fixtures';
import type { Env } from '../../src/config';
import { startLoginHarness, type HarnessOptions, type LoginHarness } from '../support/login-harness';
import { DEMO_ACCOUNTS, type DemoAccount } from '../../src/development/idp';

const ALICE = 'alice@example.fr';
/** An account whose email is not ASCII: SQLite's lower() alone would not match its upper-case form. */
const ELODIE: DemoAccount = { id: 'elodie', email: 'élodie@example.fr', given_name: 'Élodie', family_name: 'Núñez' };

/** Every database, each against oidc-provider as the tests' IdP and as strict real servers are (nonce required, client_secret_basic only, `name` but no given or family name). */
const SUITES = PROVIDERS_UNDER_TEST.flatMap(
  (provider) =>
    [
      [provider, 'oidc-provider', false],
      [provider, 'a strict IdP', true],
    ] as const,
);

describe.each(SUITES)('OIDC login with the admin-role sync on %s, %s', (provider, _idp, strictIdp) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
  });
  afterAll(() => db.drop());
  const start = (env: Env = {}, options: HarnessOptions = {}) => startLoginHarness(db, env, { strictIdp, ...options });

  async function userByEmail(email: string) {
    return db.prisma.user.findFirst({ where: { email } });
  }

  describe('with the default rules', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await start({}, { accounts: [...DEMO_ACCOUNTS, ELODIE] });
    });
    afterAll(() => h.close());
    beforeEach(async () => {
      await db.truncate();
      h.dc.reset();
      await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr']);
    });

    it('a first login creates the user and the entitled admin rows, then lands on LOGIN_REDIRECT_URL', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr', 'b.fr'] });
      const browser = h.browser();
      const page = await h.login(browser, 'alice');
      expect(page).toMatchObject({ status: 200, url: `${h.appUrl}/` });
      const user = await userByEmail(ALICE);
      expect(user).toMatchObject({ sub: 'alice', fullName: 'Alice Martin', shortName: strictIdp ? null : 'Alice', isActive: true });
      expect(user!.lastLoginAt).toBeInstanceOf(Date);
      expect(await adminDomainsOf(db.prisma, user!.id)).toEqual(['a.fr', 'b.fr']);
      expect(await h.whoami(browser)).toBe(ALICE);
    });

    it('sends a state and a nonce (OIDC_USE_NONCE) with PKCE on every authorization request', async () => {
      const location = new URL((await h.browser().request(`${h.appUrl}/api/v1.0/authenticate/`)).location!);
      expect([...location.searchParams.keys()].sort()).toEqual(
        ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'].sort(),
      );
      expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    });

    it('two tabs of one browser logging in at once both succeed (each attempt keeps its own verifier and nonce)', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: [] });
      const browser = h.browser();
      const atCallback = (url: string | null) => url !== null && url.startsWith(`${h.appUrl}/api/v1.0/callback/`);
      const toIdp = async () => (await browser.request(`${h.appUrl}/api/v1.0/authenticate/`)).location!;
      const tabs = [await toIdp(), await toIdp()]; // both tabs left for the IdP before either came back
      const callbacks: string[] = [];
      for (const url of tabs) {
        let page = await browser.visit(url, {}, { stopAt: atCallback });
        for (let step = 0; step < 3 && !atCallback(page.location); step++) {
          page = await browser.submit(page, page.body.includes('name="login"') ? { login: 'alice', password: 'any' } : {}, { stopAt: atCallback });
        }
        callbacks.push(page.location!);
      }
      // The second tab comes back first, then the first one.
      expect((await browser.request(callbacks[1]!)).status).toBe(302);
      expect((await browser.request(callbacks[0]!)).status).toBe(302);
      expect(await h.whoami(browser)).toBe(ALICE);
    });

    it('a second login with a changed answer adds and removes rows', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr', 'b.fr'] });
      await h.login(h.browser(), 'alice');
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['b.fr', 'c.fr'] });
      await h.login(h.browser(), 'alice');
      const user = await userByEmail(ALICE);
      expect(await adminDomainsOf(db.prisma, user!.id)).toEqual(['b.fr', 'c.fr']);
      expect(h.dc.requests).toHaveLength(2);
    });

    it('keeps rows and lets the user in when DeployCenter is down (keep)', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
      await h.login(h.browser(), 'alice');
      h.dc.reply = () => ({ status: 503 });
      const browser = h.browser();
      expect(await h.login(browser, 'alice')).toMatchObject({ status: 200, url: `${h.appUrl}/` });
      expect(await h.whoami(browser)).toBe(ALICE);
      expect(await adminDomainsOf(db.prisma, (await userByEmail(ALICE))!.id)).toEqual(['a.fr']);
    });

    it('leaves rows untouched when can_admin_maildomains is absent', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
      await h.login(h.browser(), 'alice');
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true });
      await h.login(h.browser(), 'alice');
      expect(await adminDomainsOf(db.prisma, (await userByEmail(ALICE))!.id)).toEqual(['a.fr']);
    });

    it('sends the siret claim to DeployCenter only when the IdP has one', async () => {
      await h.login(h.browser(), 'alice');
      await h.login(h.browser(), 'bob');
      expect(h.dc.requests.map((request) => request.query)).toEqual([
        { service_id: 'messages', account_type: 'user', account_email: ALICE, siret: '12345678900011' },
        { service_id: 'messages', account_type: 'user', account_email: 'bob@example.fr' },
      ]);
      expect(h.dc.requests[0]!.headers['x-service-auth']).toBe('Bearer dc-key');
    });

    it('refuses an inactive user with a 403, writes nothing and opens no session', async () => {
      const user = await db.prisma.user.create({ data: { sub: 'alice', email: ALICE, isActive: false, fullName: 'Old Name' } });
      const browser = h.browser();
      const page = await h.login(browser, 'alice');
      expect(page.status).toBe(403);
      expect(page.body).toContain('User account is disabled');
      expect(await db.prisma.user.findUnique({ where: { id: user.id } })).toMatchObject({ fullName: 'Old Name', lastLoginAt: null });
      expect(h.dc.requests).toHaveLength(0);
      expect(await h.whoami(browser)).toBeNull();
    });

    it('finds an existing user by email whatever its case, and gives it the sub', async () => {
      const existing = await db.prisma.user.create({ data: { email: ' Alice@Example.FR ' } });
      await h.login(h.browser(), 'alice');
      expect(await db.prisma.user.count()).toBe(1);
      expect(await db.prisma.user.findUnique({ where: { id: existing.id } })).toMatchObject({ sub: 'alice', email: ALICE });
    });

    it('matches a non-ASCII email whatever its case and Unicode form, the same on every database (no duplicate user)', async () => {
      const existing = await db.prisma.user.create({ data: { email: 'E\u0301LODIE@Example.fr' } }); // decomposed É, upper case
      await h.login(h.browser(), 'elodie');
      expect(await db.prisma.user.count()).toBe(1);
      expect(await db.prisma.user.findUnique({ where: { id: existing.id } })).toMatchObject({
        sub: 'elodie',
        email: ELODIE.email,
        emailNormalized: ELODIE.email,
      });
    });

    it('finds a user by the email its last login brought, not by the one it had before', async () => {
      await db.prisma.user.create({ data: { sub: 'someone', email: 'old@example.fr' } });
      const existing = await db.prisma.user.create({ data: { sub: 'alice', email: 'old@example.fr' } });
      await h.login(h.browser(), 'alice');
      expect(await db.prisma.user.findUnique({ where: { id: existing.id } })).toMatchObject({ email: ALICE, emailNormalized: ALICE });
      await db.prisma.user.update({ where: { id: existing.id }, data: { sub: null } });
      await h.login(h.browser(), 'alice'); // by email now: one match, the renamed user
      expect(await db.prisma.user.count()).toBe(2);
      expect(await db.prisma.user.findUnique({ where: { id: existing.id } })).toMatchObject({ sub: 'alice' });
    });

    it('refuses when several users share the email', async () => {
      await db.prisma.user.create({ data: { email: ALICE } });
      await db.prisma.user.create({ data: { email: 'ALICE@example.fr' } });
      expect((await h.login(h.browser(), 'alice')).status).toBe(403);
    });

    it('updates names and email from the claims, never an existing sub', async () => {
      const existing = await db.prisma.user.create({ data: { sub: 'alice', email: 'old@example.fr', fullName: 'A M', shortName: 'A' } });
      await h.login(h.browser(), 'alice');
      expect(await db.prisma.user.findUnique({ where: { id: existing.id } })).toMatchObject({
        sub: 'alice',
        email: ALICE,
        fullName: 'Alice Martin', // from given and family names, or from `name` where the IdP releases only that
        shortName: strictIdp ? 'A' : 'Alice', // the given name, kept when the IdP releases none
      });
    });

    it('changes the session cookie at login, and logout ends the session at the IdP too', async () => {
      const browser = h.browser();
      await browser.visit(`${h.appUrl}/api/v1.0/authenticate/`);
      const before = browser.cookie(h.appUrl, 'sessionid');
      expect(before).toBeDefined();
      await browser.visit(await h.authorize(browser, 'alice'));
      const after = browser.cookie(h.appUrl, 'sessionid');
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      expect(await h.whoami(browser)).toBe(ALICE);
      expect(await db.prisma.session.count()).toBe(1); // in the database: it survives a restart

      const stolen = new Browser();
      stolen.cookies.set('127.0.0.1', new Map([['sessionid', after!]]));
      expect(await h.whoami(stolen)).toBe(ALICE);

      const logout = await browser.request(`${h.appUrl}/api/v1.0/logout/`);
      expect(logout.status).toBe(303);
      expect(logout.location).toMatch(new RegExp(`^${h.idpUrl}/session/end\\?`));
      expect(new URL(logout.location!).searchParams.get('id_token_hint')).toBeTruthy();
      expect(await h.whoami(browser)).toBeNull();
      expect(await h.whoami(stolen)).toBeNull();
      expect(await db.prisma.session.count()).toBe(0);
    });

    it('logs out with POST as well', async () => {
      const browser = h.browser();
      await h.login(browser, 'alice');
      expect((await browser.request(`${h.appUrl}/api/v1.0/logout/`, { method: 'POST' })).status).toBe(303);
      expect(await h.whoami(browser)).toBeNull();
    });

    describe('a callback that cannot be trusted is a 4xx, never a 500, and opens no session', () => {
      const codeFor = (browser: Browser) => h.authorize(browser, 'alice');

      it('without a login in progress (no state, no PKCE verifier)', async () => {
        const browser = h.browser();
        const callback = await codeFor(h.browser());
        const page = await browser.request(callback);
        expect(page.status).toBe(401);
        expect(await h.whoami(browser)).toBeNull();
      });

      it('with the code of another browser (wrong PKCE verifier)', async () => {
        const victim = h.browser();
        await victim.visit(`${h.appUrl}/api/v1.0/authenticate/`);
        const page = await victim.request(await codeFor(h.browser()));
        expect(page.status).toBeGreaterThanOrEqual(400);
        expect(page.status).toBeLessThan(500);
        expect(await h.whoami(victim)).toBeNull();
      });

      it('when the user refuses at the IdP (error=access_denied)', async () => {
        const browser = h.browser();
        const loginPage = await browser.visit(`${h.appUrl}/api/v1.0/authenticate/`);
        const abort = /href="([^"]*abort[^"]*)"/.exec(loginPage.body)?.[1];
        expect(abort).toBeDefined();
        const page = await browser.visit(new URL(abort!, loginPage.url).href);
        expect(page.url).toMatch(/error=access_denied/);
        expect(page.status).toBe(401);
        expect(await h.whoami(browser)).toBeNull();
      });

      it('with a replayed code', async () => {
        const browser = h.browser();
        const callback = await codeFor(browser);
        await browser.visit(callback);
        expect(await h.whoami(browser)).toBe(ALICE);
        const attacker = h.browser();
        await attacker.visit(`${h.appUrl}/api/v1.0/authenticate/`);
        const page = await attacker.request(callback);
        expect(page.status).toBeGreaterThanOrEqual(400);
        expect(page.status).toBeLessThan(500);
        expect(await h.whoami(attacker)).toBeNull();
      });

      it('a fault of our own (the database fails after the IdP vouched) is logged as an error and answered 503, not a bad login', async () => {
        const browser = new Browser('application/json');
        const callback = await h.authorize(browser, 'alice');
        db.counter.failWhen = (sql) => /FROM [`"]?(main|public)[`"]?\.[`"]?users/.test(sql);
        try {
          const page = await browser.request(callback);
          expect(page.status).toBe(503);
          expect(JSON.parse(page.body)).toEqual({ detail: 'The login could not be completed: please try again later' });
        } finally {
          db.counter.failWhen = null;
        }
        expect(h.logger.entries.some((entry) => entry.level === 'error' && /on our side/.test(entry.message))).toBe(true);
        expect(await h.whoami(browser)).toBeNull();
      });

      it('logs the error code and description the identity provider sent', async () => {
        h.logger.entries.length = 0;
        const browser = h.browser();
        const started = await browser.request(`${h.appUrl}/api/v1.0/authenticate/`);
        const state = new URL(started.location!).searchParams.get('state')!;
        const page = await browser.request(
          `${h.appUrl}/api/v1.0/callback/?error=invalid_scope&error_description=no%20such%20scope&state=${state}&iss=${encodeURIComponent(h.idpUrl)}`,
        );
        expect(page.status).toBe(400);
        expect(h.logger.entries.find((entry) => entry.message === 'login failed at the callback')?.fields).toMatchObject({
          idpError: 'invalid_scope',
          idpErrorDescription: 'no such scope',
        });
      });

      it('answers JSON to API clients', async () => {
        const api = new Browser('application/json');
        const page = await api.request(`${h.appUrl}/api/v1.0/callback/?code=forged&state=x`);
        expect(page.status).toBe(401);
        expect(JSON.parse(page.body)).toEqual({ detail: expect.stringContaining('Authentication failed') });
      });
    });
  });

  describe('with ENTITLEMENTS_SYNC_ON_UNAVAILABLE=deny', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await start({ ENTITLEMENTS_SYNC_ON_UNAVAILABLE: 'deny' });
    });
    afterAll(() => h.close());

    beforeEach(async () => {
      await db.truncate();
      h.dc.reset();
    });

    it('refuses the login when DeployCenter is down and no answer is cached: 403, rows untouched, no session', async () => {
      const [a] = await createDomains(db.prisma, ['a.fr']);
      const user = await db.prisma.user.create({ data: { sub: 'alice', email: ALICE } });
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      h.dc.reply = () => ({ status: 500 });
      const browser = h.browser();
      const page = await h.login(browser, 'alice');
      expect(page.status).toBe(403);
      expect(page.body).toContain('Entitlements service unavailable');
      expect(await h.whoami(browser)).toBeNull();
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('a refused first login creates no user, and a refused known user is not rewritten (email, names, last login)', async () => {
      h.dc.reply = () => ({ status: 500 });
      expect((await h.login(h.browser(), 'alice')).status).toBe(403);
      expect(await db.prisma.user.count()).toBe(0);

      const known = await db.prisma.user.create({ data: { sub: 'alice', email: 'old-alice@example.fr', fullName: 'Old Name', shortName: 'Old' } });
      expect((await h.login(h.browser(), 'alice')).status).toBe(403);
      expect(await db.prisma.user.findUniqueOrThrow({ where: { id: known.id } })).toEqual(known);
      expect(await db.prisma.session.count()).toBe(0);
    });

    it('lets the user in on the last good answer while it is within the stale window', async () => {
      await createDomains(db.prisma, ['a.fr']);
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
      await h.login(h.browser(), 'alice');
      h.dc.reply = () => ({ status: 500 });
      const browser = h.browser();
      expect((await h.login(browser, 'alice')).status).toBe(200);
      expect(await h.whoami(browser)).toBe(ALICE);
      expect(h.logger.entries.some((entry) => /stale/.test(entry.message))).toBe(true);
    });
  });

  (process.env.TEST_REDIS_URL ? describe : describe.skip)('with REDIS_URL', () => {
    let h: LoginHarness;
    let redis: Redis;
    const prefix = `login-test-${process.pid}-${Date.now()}`;
    beforeAll(async () => {
      h = await start({ REDIS_URL: process.env.TEST_REDIS_URL!, ENTITLEMENTS_CACHE_PREFIX: prefix });
      redis = new Redis(process.env.TEST_REDIS_URL!);
    });
    afterAll(async () => {
      await h.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('keeps the entitlements cache in Redis and the sessions in the database, and logout removes the session', async () => {
      await db.truncate();
      h.dc.reset();
      const browser = h.browser();
      await h.login(browser, 'alice');
      expect(await h.whoami(browser)).toBe(ALICE);
      expect(await db.prisma.session.count()).toBe(1);
      expect(await redis.keys(`${prefix}:session:*`)).toHaveLength(0);
      expect(await redis.exists(`${prefix}:entitlements:user:alice`)).toBe(1);
      await browser.request(`${h.appUrl}/api/v1.0/logout/`);
      expect(await db.prisma.session.count()).toBe(0);
    });

    it('keeps sessions in Redis with SESSION_STORE=redis, with the same absolute lifetime, and logout removes them', async () => {
      const inRedis = await start({
        REDIS_URL: process.env.TEST_REDIS_URL!,
        ENTITLEMENTS_CACHE_PREFIX: prefix,
        SESSION_STORE: 'redis',
        SESSION_COOKIE_AGE: '600',
      });
      try {
        await db.truncate();
        const browser = inRedis.browser();
        await inRedis.login(browser, 'alice');
        expect(await inRedis.whoami(browser)).toBe(ALICE);
        expect(await db.prisma.session.count()).toBe(0);
        const keys = await redis.keys(`${prefix}:session:*`);
        expect(keys).toHaveLength(1);
        expect(await redis.ttl(keys[0]!)).toBeGreaterThan(590);
        expect(await redis.ttl(keys[0]!)).toBeLessThanOrEqual(600);
        await browser.request(`${inRedis.appUrl}/api/v1.0/logout/`);
        expect(await redis.keys(`${prefix}:session:*`)).toHaveLength(0);
      } finally {
        await inRedis.close();
      }
    });
  });

  describe('with essential claims and without user creation', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await start({ OIDC_USERINFO_ESSENTIAL_CLAIMS: 'siret,email', OIDC_CREATE_USER: 'false' });
    });
    afterAll(() => h.close());
    beforeEach(() => db.truncate());

    it('refuses a login that lacks an essential claim', async () => {
      await db.prisma.user.create({ data: { sub: 'bob', email: 'bob@example.fr' } });
      const page = await h.login(h.browser(), 'bob');
      expect(page.status).toBe(403);
      expect(page.body).toContain('Missing essential claims: siret');
    });

    it('refuses an unknown user, and lets a known one in', async () => {
      expect((await h.login(h.browser(), 'alice')).status).toBe(403);
      expect(await db.prisma.user.count()).toBe(0);
      await db.prisma.user.create({ data: { sub: 'alice', email: ALICE } });
      const browser = h.browser();
      expect((await h.login(browser, 'alice')).status).toBe(200);
      expect(await h.whoami(browser)).toBe(ALICE);
    });
  });

  describe('without the email fallback', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await start({ OIDC_FALLBACK_TO_EMAIL_FOR_IDENTIFICATION: 'false' });
    });
    afterAll(() => h.close());

    it('refuses a new sub whose email is already associated', async () => {
      await db.truncate();
      await db.prisma.user.create({ data: { sub: 'someone-else', email: 'Alice@example.fr' } });
      const page = await h.login(h.browser(), 'alice');
      expect(page.status).toBe(403);
      expect(page.body).toContain('already associated');
      expect(await db.prisma.user.count()).toBe(1);
    });
  });
});

describe('OIDC_TOKEN_ENDPOINT_AUTH_METHOD against an IdP that accepts client_secret_basic only', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(() => db.drop());

  it.each([
    ['unset (basic, from discovery): the login succeeds', {}, 302],
    ['client_secret_basic: the login succeeds', { OIDC_TOKEN_ENDPOINT_AUTH_METHOD: 'client_secret_basic' }, 302],
    ['client_secret_post: refused by the IdP, a 400 whose log names invalid_client', { OIDC_TOKEN_ENDPOINT_AUTH_METHOD: 'client_secret_post' }, 400],
  ])('%s', async (_label, env, status) => {
    const h = await startLoginHarness(db, env, { strictIdp: true });
    try {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true });
      const browser = h.browser();
      const page = await browser.request(await h.authorize(browser, 'alice'));
      expect(page.status).toBe(status);
      if (status === 400) {
        expect(h.logger.entries.find((entry) => entry.message === 'login failed at the callback')?.fields).toMatchObject({ idpError: 'invalid_client' });
      }
    } finally {
      await h.close();
    }
  });
});
