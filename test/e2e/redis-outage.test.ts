import { randomBytes } from 'node:crypto';
import type { Browser, Page } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { REDIS_SERVER_AVAILABLE, TestRedisServer } from '../support/redis-server';

const ALICE = 'alice@example.fr';

/**
 * Two instances on one PostgreSQL database and one Redis of the test's own, which the test kills and
 * starts again. Redis holds only what is safe to lose: nobody notices the outage.
 */
(process.env.TEST_DATABASE_URL && REDIS_SERVER_AVAILABLE ? describe : describe.skip)('a Redis outage, two instances on PostgreSQL', () => {
  const redis = new TestRedisServer();
  let db: TestDatabase;
  let a: LoginHarness;
  let b: LoginHarness;
  let redisSessions: LoginHarness;
  const statuses: number[] = [];

  const record = (page: Page) => {
    statuses.push(page.status);
    return page;
  };
  const whoami = async (h: LoginHarness, browser: Browser) => JSON.parse(record(await browser.request(`${h.appUrl}/whoami`)).body).email;
  const me = async (h: LoginHarness, browser: Browser) =>
    record(await browser.request(`${h.appUrl}/api/v1.0/users/me/`, { headers: { accept: 'application/json' } }));
  const login = async (h: LoginHarness, browser: Browser) => record(await h.login(browser, 'alice'));
  const logs = (h: LoginHarness, pattern: RegExp) => h.logger.entries.filter((entry) => pattern.test(entry.message));

  beforeAll(async () => {
    await redis.start();
    db = await createTestDatabase('postgresql');
    const env = {
      REDIS_URL: redis.url,
      SESSION_SECRET: randomBytes(24).toString('hex'),
      ENTITLEMENTS_CACHE_PREFIX: `outage-${randomBytes(4).toString('hex')}`,
    };
    [a, b] = [await startLoginHarness(db, env), await startLoginHarness(db, env)];
    redisSessions = await startLoginHarness(db, { ...env, SESSION_STORE: 'redis' });
    for (const h of [a, b]) h.dc.entitlementsByEmail.set(ALICE, { can_access: true, can_admin_maildomains: [] });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), redisSessions.close()]);
    await redis.stop();
    await db.drop();
  });

  it('sessions and logins go on during the outage on both instances, no request answers 5xx, and the shared cache is used again after it', async () => {
    const before = a.browser();
    expect((await login(a, before)).status).toBe(200);
    expect([await whoami(a, before), await whoami(b, before)]).toEqual([ALICE, ALICE]);

    await redis.stop();
    // A session made before the outage: still logged in on both instances, and the API answers.
    expect([await whoami(a, before), await whoami(b, before)]).toEqual([ALICE, ALICE]);
    expect((await me(a, before)).status).toBe(200);
    expect((await me(b, before)).status).toBe(200);
    // New logins during the outage, on either instance.
    for (const h of [a, b]) {
      const during = h.browser();
      expect((await login(h, during)).status).toBe(200);
      expect([await whoami(a, during), await whoami(b, during)]).toEqual([ALICE, ALICE]);
      expect((await me(h, during)).status).toBe(200);
    }
    // With SESSION_STORE=redis (opt-in) a login cannot keep its state: said at once, no trip to the IdP.
    const refused = await redisSessions.browser().request(`${redisSessions.appUrl}/api/v1.0/authenticate/`, { headers: { accept: 'application/json' } });
    expect(refused.status).toBe(503);
    expect(refused.location).toBeNull();
    // The cache and the rate limits fell back to in-process ones, each said once per instance, not per request.
    for (const h of [a, b]) expect(logs(h, /Redis unreachable: entitlements/)).toHaveLength(1);
    for (const h of [a, b]) expect(logs(h, /Redis unreachable: rate limits/)).toHaveLength(1);

    await redis.start();
    const back = async (h: LoginHarness) => {
      for (let i = 0; i < 50 && logs(h, /Redis reachable again/).length === 0; i++) {
        await h.lib.getEntitlements({ sub: 'alice', email: ALICE, forceRefresh: true });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(logs(h, /Redis reachable again/)).toHaveLength(1);
    };
    await back(a);
    await back(b);
    // The rate-limit counters go back to Redis at the next request that counts.
    for (const h of [a, b]) {
      expect((await login(h, h.browser())).status).toBe(200);
      expect(logs(h, /rate-limit counters back in Redis/)).toHaveLength(1);
    }
    // Back in use, and shared: an answer fetched by A is a hit on B.
    await a.lib.getEntitlements({ sub: 'alice', email: ALICE, forceRefresh: true });
    const asked = b.dc.requests.length;
    expect((await b.lib.getEntitlements({ sub: 'alice', email: ALICE })).can_access).toBe(true);
    expect(b.dc.requests.length).toBe(asked);
    expect([await whoami(a, before), await whoami(b, before)]).toEqual([ALICE, ALICE]);

    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });
});
