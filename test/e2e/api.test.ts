import { Browser, type Page } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { createDomains } from '../support/fixtures';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { expectDocumented } from '../support/openapi-check';

const ALICE = 'alice@example.fr';
const BOB = 'bob@example.fr';
const KEY = 'provisioning-key-of-the-tests';

/** A JSON request to the API, whose answer must be what the OpenAPI document declares. */
async function call(
  h: LoginHarness,
  browser: Browser,
  method: string,
  path: string,
  body?: { json?: unknown; raw?: string; headers?: Record<string, string> },
): Promise<Page & { json: unknown }> {
  const page = await browser.request(`${h.appUrl}/api/v1.0${path}`, { method, ...body, headers: { accept: 'application/json', ...body?.headers } });
  expectDocumented(page);
  return { ...page, json: page.body ? JSON.parse(page.body) : undefined };
}

const provision = (h: LoginHarness, json: unknown, key: string | null = KEY) =>
  call(h, new Browser('application/json'), 'POST', '/provisioning/maildomains/', { json, headers: key === null ? {} : { authorization: `Bearer ${key}` } });

describe.each(PROVIDERS_UNDER_TEST)('the REST surface on %s', (provider) => {
  let db: TestDatabase;
  let h: LoginHarness;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    h = await startLoginHarness(db, { PROVISIONING_API_KEY: KEY });
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });
  beforeEach(async () => {
    await db.truncate();
    h.dc.reset();
  });

  async function loggedIn(account: string, entitlements: Record<string, unknown> = { can_access: true }): Promise<Browser> {
    h.dc.entitlementsByEmail.set(`${account}@example.fr`, entitlements);
    const browser = h.browser();
    await h.login(browser, account);
    return browser;
  }

  describe('config/, users/me/, entitlements/', () => {
    it('config/ is public and gives the flags', async () => {
      const page = await call(h, new Browser(), 'GET', '/config/');
      expect(page.json).toEqual({ FEATURE_MAILDOMAIN_CREATE: true, FEATURE_MAILDOMAIN_MANAGE_ACCESSES: true });
    });

    it('users/me/ and entitlements/ are 401 for anonymous users', async () => {
      expect((await call(h, new Browser(), 'GET', '/users/me/')).json).toEqual({ detail: 'Authentication credentials were not provided.' });
      expect((await call(h, new Browser(), 'GET', '/entitlements/')).status).toBe(401);
    });

    it('users/me/ describes the user, its abilities and can_create', async () => {
      await createDomains(db.prisma, ['a.fr']);
      const browser = await loggedIn('alice', { can_access: true, can_create: true, can_admin_maildomains: ['a.fr'] });
      const me = await call(h, browser, 'GET', '/users/me/');
      expect(me.json).toMatchObject({
        sub: 'alice',
        email: ALICE,
        full_name: 'Alice Martin',
        short_name: 'Alice',
        is_superuser: false,
        abilities: { view_maildomains: true, create_maildomains: false, manage_accesses: false },
        can_create: true,
      });
      const bob = await loggedIn('bob', { can_access: true });
      expect((await call(h, bob, 'GET', '/users/me/')).json).toMatchObject({ abilities: { view_maildomains: false }, can_create: false });
    });

    it('entitlements/ lists every can_* with its reason, and the admin domains', async () => {
      const browser = await loggedIn('alice', {
        can_access: true,
        can_create: false,
        can_create_reason: 'Quota reached',
        can_admin_maildomains: ['a.fr'],
        other: 1,
      });
      expect((await call(h, browser, 'GET', '/entitlements/')).json).toEqual({
        can_access: { result: true },
        can_create: { result: false, message: 'Quota reached' },
        can_admin_maildomains: { result: true, domains: ['a.fr'] },
      });
    });

    it('gates users/me/ and maildomains/ on can_access, not config/ nor entitlements/', async () => {
      const browser = await loggedIn('alice', { can_access: false, can_access_reason: 'No subscription' });
      for (const path of ['/users/me/', '/maildomains/']) {
        const page = await call(h, browser, 'GET', path);
        expect(page.status).toBe(403);
        expect(page.json).toEqual({ detail: 'Access denied by entitlements policy' });
      }
      expect((await call(h, browser, 'GET', '/entitlements/')).json).toEqual({ can_access: { result: false, message: 'No subscription' } });
      expect((await call(h, browser, 'GET', '/config/')).status).toBe(200);
      await db.prisma.user.updateMany({ where: { email: ALICE }, data: { isSuperuser: true } });
      expect((await call(h, browser, 'GET', '/users/me/')).status).toBe(200);
    });

    it('serves its OpenAPI document', async () => {
      const page = await new Browser('application/json').request(`${h.appUrl}/api/v1.0/openapi.json`);
      expect(JSON.parse(page.body)).toMatchObject({ openapi: '3.1.0', paths: { '/provisioning/maildomains/': { post: {} } } });
    });
  });

  describe('provisioning/maildomains/', () => {
    it.each([
      ['no Authorization header', null],
      ['a wrong key', 'wrong'],
      ['an empty key', ''],
    ])('answers 403 with %s', async (_label, key) => {
      const page = await provision(h, { domains: ['a.fr'] }, key);
      expect(page.status).toBe(403);
      expect(await db.prisma.mailDomain.count()).toBe(0);
    });

    it('creates domains, with {} as custom attributes by default, normalised', async () => {
      const page = await provision(h, { domains: ['Example.FR.', 'other.fr'] });
      expect(page.json).toEqual({ created: ['example.fr', 'other.fr'], existing: [], errors: [] });
      expect((await db.prisma.mailDomain.findUnique({ where: { name: 'example.fr' } }))?.customAttributes).toEqual({});
    });

    it('is idempotent, and replaces custom attributes that differ', async () => {
      await provision(h, { domains: ['a.fr'], custom_attributes: { siret: '1' } });
      expect((await provision(h, { domains: ['a.fr'], custom_attributes: { siret: '1' } })).json).toEqual({ created: [], existing: ['a.fr'], errors: [] });
      await provision(h, { domains: ['a.fr'], custom_attributes: { siret: '2', tier: 'gold' } });
      expect((await db.prisma.mailDomain.findUnique({ where: { name: 'a.fr' } }))?.customAttributes).toEqual({ siret: '2', tier: 'gold' });
      expect(await db.prisma.mailDomain.count()).toBe(1);
    });

    it('accepts a comma-separated string: trimmed, empty items dropped, duplicates collapsed', async () => {
      const page = await provision(h, { domains: ' a.fr, ,B.fr,a.fr.,  ' });
      expect(page.json).toEqual({ created: ['a.fr', 'b.fr'], existing: [], errors: [] });
    });

    it('reports an invalid domain beside a valid one, and stores only the valid one', async () => {
      const page = await provision(h, { domains: ['good.fr', 'bad_domain!', 42, `${'x'.repeat(64)}.fr`] });
      expect(page.json).toEqual({
        created: ['good.fr'],
        existing: [],
        errors: [
          { domain: 'bad_domain!', error: 'invalid domain name' },
          { domain: 42, error: 'not a domain name (a string is expected)' },
          { domain: `${'x'.repeat(64)}.fr`, error: 'invalid domain name' },
        ],
      });
      expect((await db.prisma.mailDomain.findMany()).map((d) => d.name)).toEqual(['good.fr']);
    });

    it.each([
      ['missing domains', {}],
      ['an empty list', { domains: [] }],
      ['an empty string', { domains: '' }],
      ['blank items only', { domains: [' ', ''] }],
      ['a number', { domains: 3 }],
      ['custom attributes that are not an object', { domains: ['a.fr'], custom_attributes: [1] }],
      ['a JSON array body', [{ domains: ['a.fr'] }]],
    ])('answers 400 for %s', async (_label, json) => {
      const page = await provision(h, json);
      expect(page.status).toBe(400);
      expect(page.json).toEqual({ detail: expect.any(String) });
    });

    it('answers 400 for malformed JSON and 413 for a body over 1 MiB', async () => {
      const headers = { authorization: `Bearer ${KEY}` };
      const malformed = await call(h, new Browser(), 'POST', '/provisioning/maildomains/', { raw: '{"domains": [', headers });
      expect(malformed.status).toBe(400);
      const huge = await call(h, new Browser(), 'POST', '/provisioning/maildomains/', { json: { domains: 'a'.repeat(1024 * 1024 + 1) }, headers });
      expect(huge.status).toBe(413);
      expect(await db.prisma.mailDomain.count()).toBe(0);
    });
  });

  describe('maildomains/ and their accesses', () => {
    async function setUp() {
      const [a, b] = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      const alice = await loggedIn('alice', { can_access: true, can_admin_maildomains: ['a.fr'] });
      const bob = await loggedIn('bob', { can_access: true, can_admin_maildomains: ['b.fr'] });
      const aliceId = (await db.prisma.user.findFirst({ where: { email: ALICE } }))!.id;
      const bobId = (await db.prisma.user.findFirst({ where: { email: BOB } }))!.id;
      return { a: a!, b: b!, alice, bob, aliceId, bobId };
    }

    it('lists the domains a user administers; superusers see all', async () => {
      const { alice, aliceId } = await setUp();
      expect(((await call(h, alice, 'GET', '/maildomains/')).json as { name: string }[]).map((d) => d.name)).toEqual(['a.fr']);
      await db.prisma.user.update({ where: { id: aliceId }, data: { isSuperuser: true } });
      expect(((await call(h, alice, 'GET', '/maildomains/')).json as { name: string }[]).map((d) => d.name)).toEqual(['a.fr', 'b.fr']);
    });

    it('lets superusers create a domain, nobody else', async () => {
      const { alice, aliceId } = await setUp();
      expect((await call(h, alice, 'POST', '/maildomains/', { json: { name: 'new.fr' } })).status).toBe(403);
      await db.prisma.user.update({ where: { id: aliceId }, data: { isSuperuser: true } });
      const created = await call(h, alice, 'POST', '/maildomains/', { json: { name: ' New.FR ' } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ name: 'new.fr', custom_attributes: {} });
      expect((await call(h, alice, 'POST', '/maildomains/', { json: { name: 'new.fr' } })).status).toBe(400);
      expect((await call(h, alice, 'POST', '/maildomains/', { json: { name: 'not a domain' } })).status).toBe(400);
      expect((await call(h, alice, 'POST', '/maildomains/', { json: { name: 42 } })).status).toBe(400);
    });

    it('lets a domain admin manage its accesses, with source MANUAL and an audit row per change', async () => {
      const { a, alice, aliceId, bobId } = await setUp();
      const list = await call(h, alice, 'GET', `/maildomains/${a.id}/accesses/`);
      expect((list.json as { user: { email: string } }[]).map((x) => x.user.email)).toEqual([ALICE]);
      const created = await call(h, alice, 'POST', `/maildomains/${a.id}/accesses/`, { json: { user: bobId, role: 'admin' } });
      expect(created.status).toBe(201);
      expect(created.json).toMatchObject({ user: { id: bobId, email: BOB }, role: 'ADMIN', source: 'MANUAL' });
      expect((await call(h, alice, 'POST', `/maildomains/${a.id}/accesses/`, { json: { user: bobId, role: 'VIEWER' } })).status).toBe(400);
      const accessId = (created.json as { id: string }).id;
      expect((await call(h, alice, 'DELETE', `/maildomains/${a.id}/accesses/${accessId}/`)).status).toBe(204);
      const events = await db.prisma.accessEvent.findMany({ where: { actor: aliceId }, orderBy: { at: 'asc' } });
      expect(events.map((e) => `${e.action}:${e.domainName}:${e.role}:${e.source}:${e.userId === bobId}`)).toEqual([
        'GRANTED:a.fr:ADMIN:MANUAL:true',
        'REVOKED:a.fr:ADMIN:MANUAL:true',
      ]);
    });

    it('refuses an admin of A on the accesses of B, and non-admins', async () => {
      const { b, alice, bobId } = await setUp();
      expect((await call(h, alice, 'GET', `/maildomains/${b.id}/accesses/`)).status).toBe(403);
      expect((await call(h, alice, 'POST', `/maildomains/${b.id}/accesses/`, { json: { user: bobId, role: 'ADMIN' } })).status).toBe(403);
      const carol = await loggedIn('carol', { can_access: true });
      expect((await call(h, carol, 'GET', `/maildomains/${b.id}/accesses/`)).status).toBe(403);
    });

    it('answers 404 for unknown and malformed ids, 400 for bad bodies', async () => {
      const { a, alice } = await setUp();
      expect((await call(h, alice, 'GET', '/maildomains/00000000-0000-0000-0000-000000000000/accesses/')).status).toBe(404);
      expect((await call(h, alice, 'GET', `/maildomains/${'z'.repeat(500)}/accesses/`)).status).toBe(404);
      expect((await call(h, alice, 'DELETE', `/maildomains/${a.id}/accesses/not-an-id/`)).status).toBe(404);
      for (const json of [{}, { user: 'nobody', role: 'ADMIN' }, { user: 1, role: 'ADMIN' }, { user: 'x', role: 'OWNER' }]) {
        expect((await call(h, alice, 'POST', `/maildomains/${a.id}/accesses/`, { json })).status).toBe(400);
      }
      expect((await call(h, alice, 'POST', `/maildomains/${a.id}/accesses/`, { raw: '{oops' })).status).toBe(400);
    });

    it('takes admin rights away at once when a sync revokes them', async () => {
      const { a, aliceId } = await setUp();
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
      const alice = h.browser();
      await h.login(alice, 'alice');
      expect((await call(h, alice, 'GET', `/maildomains/${a.id}/accesses/`)).status).toBe(200);
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: [] });
      await h.lib.syncUser({ id: aliceId, sub: 'alice', email: ALICE });
      expect((await call(h, alice, 'GET', `/maildomains/${a.id}/accesses/`)).status).toBe(403);
      expect((await call(h, alice, 'GET', '/maildomains/')).json).toEqual([]);
    });
  });
});

describe('feature flags off', () => {
  let db: TestDatabase;
  let h: LoginHarness;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    h = await startLoginHarness(db, { FEATURE_MAILDOMAIN_CREATE: 'false', FEATURE_MAILDOMAIN_MANAGE_ACCESSES: 'false' });
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  it('config/ says so, and creation of domains and of accesses is 403 while listing stays allowed', async () => {
    expect((await call(h, new Browser(), 'GET', '/config/')).json).toEqual({ FEATURE_MAILDOMAIN_CREATE: false, FEATURE_MAILDOMAIN_MANAGE_ACCESSES: false });
    const [a] = await createDomains(db.prisma, ['a.fr']);
    h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: ['a.fr'] });
    const alice = h.browser();
    await h.login(alice, 'alice');
    const aliceId = (await db.prisma.user.findFirst({ where: { email: ALICE } }))!.id;
    await db.prisma.user.update({ where: { id: aliceId }, data: { isSuperuser: true } });
    expect((await call(h, alice, 'POST', '/maildomains/', { json: { name: 'new.fr' } })).status).toBe(403);
    expect((await call(h, alice, 'GET', `/maildomains/${a!.id}/accesses/`)).status).toBe(200);
    expect((await call(h, alice, 'POST', `/maildomains/${a!.id}/accesses/`, { json: { user: aliceId, role: 'VIEWER' } })).status).toBe(403);
    const access = await db.prisma.mailDomainAccess.findFirst({ where: { userId: aliceId } });
    expect((await call(h, alice, 'DELETE', `/maildomains/${a!.id}/accesses/${access!.id}/`)).status).toBe(403);
    expect((await provision(h, { domains: ['a.fr'] }, KEY)).status).toBe(403); // no key configured here
  });
});
