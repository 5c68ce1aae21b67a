import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';

const ALICE = 'alice@example.fr';

describe("requireEntitlement('can_access') on a real login", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(() => db.drop());

  describe('with the cache', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await startLoginHarness(db);
    });
    afterAll(() => h.close());
    beforeEach(async () => {
      await db.truncate();
      h.dc.reset();
    });

    it('lets anonymous requests through (the route answers for itself)', async () => {
      const page = await h.browser().request(`${h.appUrl}/gated`);
      expect(page.status).toBe(200);
      expect(JSON.parse(page.body)).toEqual({ email: null });
    });

    it('lets a user with can_access through, on the cached answer even when the service is down', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true });
      const browser = h.browser();
      await h.login(browser, 'alice');
      h.dc.reply = () => ({ status: 500 });
      expect((await browser.request(`${h.appUrl}/gated`)).status).toBe(200);
    });

    it('refuses can_access false with the contract 403 body', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: false, can_access_reason: 'no subscription' });
      const browser = h.browser();
      await h.login(browser, 'alice');
      const page = await browser.request(`${h.appUrl}/gated`);
      expect(page.status).toBe(403);
      expect(JSON.parse(page.body)).toEqual({ detail: 'Access denied by entitlements policy' });
    });

    it('lets superusers through whatever the answer', async () => {
      h.dc.entitlementsByEmail.set(ALICE, { can_access: false });
      const browser = h.browser();
      await h.login(browser, 'alice');
      await db.prisma.user.updateMany({ where: { email: ALICE }, data: { isSuperuser: true } });
      expect((await browser.request(`${h.appUrl}/gated`)).status).toBe(200);
    });
  });

  describe('without a cached answer', () => {
    let h: LoginHarness;
    beforeAll(async () => {
      h = await startLoginHarness(db, { ENTITLEMENTS_CACHE_TIMEOUT: '0', ENTITLEMENTS_CACHE_STALE_TIMEOUT: '0' });
    });
    afterAll(() => h.close());

    it('fails closed with the contract 503 body when the service is unavailable', async () => {
      await db.truncate();
      h.dc.entitlementsByEmail.set(ALICE, { can_access: true });
      const browser = h.browser();
      await h.login(browser, 'alice');
      h.dc.reply = () => ({ status: 502 });
      const page = await browser.request(`${h.appUrl}/gated`);
      expect(page.status).toBe(503);
      expect(JSON.parse(page.body)).toEqual({ detail: 'Entitlements service unavailable' });
      const entitlements = await browser.request(`${h.appUrl}/api/v1.0/entitlements/`, { headers: { accept: 'application/json' } });
      expect(entitlements.status).toBe(503);
      expect(JSON.parse(entitlements.body)).toEqual({ detail: 'Entitlements service unavailable' });
      const me = JSON.parse((await browser.request(`${h.appUrl}/api/v1.0/users/me/`, { headers: { accept: 'application/json' } })).body);
      expect(me).toEqual({ detail: 'Entitlements service unavailable' }); // users/me/ is behind the gate
    });
  });
});
