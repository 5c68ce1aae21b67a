import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Browser } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { createDomains, createUser, snapshot } from '../support/fixtures';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { expectDocumented } from '../support/openapi-check';

/*
 * Issue "hardening" (docs/specification.md §3, §7.7, §7.10, §7.11): bounded inputs, rate limits, security
 * headers, the CSRF origin check, protected metrics, the access log — each against the real app.
 */

const KEY = 'k'.repeat(40);
const json = { accept: 'application/json' };

const timed = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await run();
  return [result, performance.now() - started];
};

describe.each(PROVIDERS_UNDER_TEST)('hardening on %s', (provider) => {
  let db: TestDatabase;
  let h: LoginHarness;
  let evilTrusted: LoginHarness;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    h = await startLoginHarness(db, { PROVISIONING_API_KEY: KEY });
    evilTrusted = await startLoginHarness(db, { CSRF_TRUSTED_ORIGINS: 'https://front.example.fr' });
  });
  afterAll(async () => {
    await h.close();
    await evilTrusted.close();
    await db.drop();
  });
  beforeEach(() => db.truncate());

  const api = (
    harness: LoginHarness,
    browser: Browser,
    method: string,
    path: string,
    init: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ) => browser.request(`${harness.appUrl}/api/v1.0${path}`, { method, ...init, headers: { ...json, ...init.headers } });

  describe('bounded inputs', () => {
    const provision = (body: { json?: unknown; raw?: string }) =>
      api(h, new Browser(), 'POST', '/provisioning/maildomains/', { ...body, headers: { authorization: `Bearer ${KEY}` } });

    it('refuses 100,000 comma-separated domains (852 KB) with a 400 in under 100 ms, before any database work', async () => {
      const domains = Array.from({ length: 100_000 }, (_, i) => `d${i}.fr`).join(',');
      expect(domains.length).toBeGreaterThan(800_000); // within the 1 MiB body limit
      await provision({ json: { domains: 'warm.example.fr' } }); // the first request pays for connections
      db.counter.reset();
      const [page, ms] = await timed(() => provision({ json: { domains } }));
      expect(page.status).toBe(400);
      expect(JSON.parse(page.body).detail).toBe('domains: at most 1000 in one request (PROVISIONING_MAX_DOMAINS), got 100000');
      expect(db.counter.count).toBe(0);
      console.log(`provisioning 100,000 domains: 400 in ${ms.toFixed(1)} ms`);
      expect(ms).toBeLessThan(100);
    });

    it('provisions 1,000 domains in well under a second while GET config/ keeps answering in under 100 ms', async () => {
      const domains = Array.from({ length: 1000 }, (_, i) => `batch${i}.example.fr`);
      await createDomains(db.prisma, domains.slice(0, 500)); // half exist: their attributes are replaced
      const reader = new Browser();
      const latencies: number[] = [];
      let done = false;
      const polling = (async () => {
        while (!done) {
          const [page, ms] = await timed(() => api(h, reader, 'GET', '/config/'));
          expect(page.status).toBe(200);
          latencies.push(ms);
        }
      })();
      const [page, ms] = await timed(() => provision({ json: { domains, custom_attributes: { plan: 'pro' } } }));
      done = true;
      await polling;
      expect(page.status).toBe(200);
      const body = JSON.parse(page.body) as { created: string[]; existing: string[] };
      expect([body.created.length, body.existing.length]).toEqual([500, 500]);
      expect(await db.prisma.mailDomain.count({ where: { customAttributes: { equals: { plan: 'pro' } } } })).toBe(1000);
      expect(ms).toBeLessThan(1000);
      expect(latencies.length).toBeGreaterThan(0);
      console.log(`provisioning 1,000: ${ms.toFixed(0)} ms; GET config/ during it: ${latencies.length} answers, max ${Math.max(...latencies).toFixed(1)} ms`);
      expect(Math.max(...latencies)).toBeLessThan(100);
    });

    it.each([
      ['a provisioning body', '/provisioning/maildomains/', (deep: unknown) => ({ domains: ['a.fr'], custom_attributes: { deep } })],
      ['a resync body', '/entitlements/resync/', (deep: unknown) => ({ emails: [deep] })],
    ])('answers JSON nested deeper than 64 levels with a 400 on %s, 50,000 levels too, and writes nothing', async (_label, path, body) => {
      const nest = (levels: number) => {
        let value: unknown = 'x';
        for (let i = 0; i < levels; i += 1) value = [value];
        return value;
      };
      const before = await snapshot(db.prisma);
      for (const levels of [64, 50_000]) {
        const raw = levels === 50_000 ? `{"domains":${'['.repeat(levels)}${']'.repeat(levels)}}` : JSON.stringify(body(nest(levels)));
        const page = await api(h, new Browser(), 'POST', path, { raw, headers: { authorization: `Bearer ${KEY}` } });
        expect({ status: page.status, detail: JSON.parse(page.body).detail as string }).toEqual({ status: 400, detail: 'JSON nested deeper than 64 levels' });
      }
      expect(await snapshot(db.prisma)).toEqual(before);
      // 64 levels in all is within the bound; a bracket inside a string is no nesting.
      const within = await api(h, new Browser(), 'POST', '/provisioning/maildomains/', {
        json: { domains: ['within.fr'], custom_attributes: { deep: nest(61), text: '[[[[[[[[[[' } },
        headers: { authorization: `Bearer ${KEY}` },
      });
      expect(within.status).toBe(200);
    });

    it('pages domain lists DRF-style on request, keeps the plain array otherwise', async () => {
      await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr', 'd.fr', 'e.fr']);
      await db.prisma.user.create({ data: { sub: 'bob', email: 'bob@example.fr', isSuperuser: true } });
      const bob = h.browser();
      await h.login(bob, 'bob');
      const documented = async (path: string) => {
        const page = await api(h, bob, 'GET', path);
        expectDocumented(page);
        return page;
      };
      const list = await documented('/maildomains/');
      expect((JSON.parse(list.body) as { name: string }[]).map((d) => d.name)).toEqual(['a.fr', 'b.fr', 'c.fr', 'd.fr', 'e.fr']);
      const page2 = JSON.parse((await documented('/maildomains/?page=2&page_size=2')).body);
      expect(page2).toMatchObject({
        count: 5,
        next: `${h.appUrl}/api/v1.0/maildomains/?page=3&page_size=2`,
        previous: `${h.appUrl}/api/v1.0/maildomains/?page=1&page_size=2`,
      });
      expect(page2.results.map((d: { name: string }) => d.name)).toEqual(['c.fr', 'd.fr']);
      expect(JSON.parse((await api(h, bob, 'GET', '/maildomains/?page=3&page_size=2')).body)).toMatchObject({ next: null, results: [{ name: 'e.fr' }] });
      expect((await documented('/maildomains/?page=4&page_size=2')).status).toBe(404);
      expect(JSON.parse((await api(h, bob, 'GET', '/maildomains/?page_size=100000')).body)).toMatchObject({ count: 5, next: null });
      for (const bad of ['page=0', 'page=x', 'page_size=-1', 'page=1&page=2']) expect((await documented(`/maildomains/?${bad}`)).status).toBe(400);
      const [a] = await db.prisma.mailDomain.findMany({ where: { name: 'a.fr' } });
      const accesses = JSON.parse((await documented(`/maildomains/${a!.id}/accesses/?page=1`)).body);
      expect(accesses).toEqual({ count: 0, next: null, previous: null, results: [] });
    });
  });

  describe('the CSRF origin check', () => {
    let alice: Browser;
    let domainId: string;
    let bobId: string;
    beforeEach(async () => {
      const [domain] = await createDomains(db.prisma, ['csrf.fr']);
      domainId = domain!.id;
      bobId = (await createUser(db.prisma, 'bob@csrf.fr')).id;
      h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['csrf.fr'] });
      evilTrusted.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['csrf.fr'] });
      alice = h.browser();
      await h.login(alice, 'alice');
    });

    const grant = (harness: LoginHarness, browser: Browser, headers: Record<string, string>) =>
      api(harness, browser, 'POST', `/maildomains/${domainId}/accesses/`, { json: { user: bobId, role: 'VIEWER' }, headers });

    it('refuses cookie-authenticated writes from another origin or marked cross-site, before any write', async () => {
      const before = await snapshot(db.prisma);
      for (const headers of [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: h.appUrl, 'sec-fetch-site': 'cross-site' }] as Record<
        string,
        string
      >[]) {
        const page = await grant(h, alice, headers);
        expect({ headers, status: page.status }).toEqual({ headers, status: 403 });
        expect(JSON.parse(page.body).detail).toContain('Cross-site request refused');
      }
      const access = await db.prisma.mailDomainAccess.findFirstOrThrow({ where: { maildomainId: domainId } });
      const del = await api(h, alice, 'DELETE', `/maildomains/${domainId}/accesses/${access.id}/`, { headers: { origin: 'https://sibling.example.fr' } });
      expect(del.status).toBe(403);
      expect(await snapshot(db.prisma)).toEqual(before);
      expect(h.logger.entries.some((entry) => entry.message === 'cross-site request refused')).toBe(true);
    });

    it('lets the app itself, CSRF_TRUSTED_ORIGINS and clients without Origin write', async () => {
      expect((await grant(h, alice, { origin: h.appUrl, 'sec-fetch-site': 'same-origin' })).status).toBe(201);
      await db.prisma.mailDomainAccess.deleteMany({ where: { userId: bobId } });
      expect((await grant(h, alice, {})).status).toBe(201); // curl with a session cookie
      await db.prisma.mailDomainAccess.deleteMany({ where: { userId: bobId } });
      const viaFront = evilTrusted.browser();
      await evilTrusted.login(viaFront, 'alice');
      expect((await grant(evilTrusted, viaFront, { origin: 'https://front.example.fr', 'sec-fetch-site': 'same-site' })).status).toBe(201);
      expect((await grant(evilTrusted, viaFront, { origin: 'https://other.example.fr' })).status).toBe(403);
    });

    it('does not concern bearer-key routes', async () => {
      const page = await api(h, new Browser(), 'POST', '/provisioning/maildomains/', {
        json: { domains: ['bearer.fr'] },
        headers: { authorization: `Bearer ${KEY}`, origin: 'https://dc.example' },
      });
      expect(page.status).toBe(200);
    });

    it('keeps the session on a cross-site logout, GET or POST; the app itself logs out with either', async () => {
      const crossGet = await alice.request(`${h.appUrl}/api/v1.0/logout/`, { headers: { 'sec-fetch-site': 'cross-site' } });
      expect(crossGet.status).toBe(403);
      const crossPost = await alice.request(`${h.appUrl}/api/v1.0/logout/`, { method: 'POST', headers: { origin: 'https://evil.example' } });
      expect(crossPost.status).toBe(403);
      expect(await h.whoami(alice)).toBe('alice@example.fr');
      const post = await alice.request(`${h.appUrl}/api/v1.0/logout/`, { method: 'POST', headers: { origin: h.appUrl, 'sec-fetch-site': 'same-origin' } });
      expect(post.status).toBe(303);
      expect(await h.whoami(alice)).toBeNull();
      alice = h.browser(); // a new browser: the IdP's own session ended with the logout it was sent to
      await h.login(alice, 'alice');
      expect((await alice.request(`${h.appUrl}/api/v1.0/logout/`, { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(303);
      expect(await h.whoami(alice)).toBeNull();
    });
  });
});

describe('security headers, rate limits, metrics and the access log (docs/specification.md §3, §7.11)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterAll(() => db.drop());

  it('puts nosniff, a CSP with frame-ancestors, a Referrer-Policy and no-store on the library routes, HSTS in production only', async () => {
    const dev = await startLoginHarness(db);
    const prod = await startLoginHarness(db, { NODE_ENV: 'production', SESSION_SECRET: randomBytes(32).toString('hex') });
    try {
      for (const [harness, production] of [
        [dev, false],
        [prod, true],
      ] as const) {
        for (const path of ['/api/v1.0/config/', '/api/v1.0/users/me/', '/api/v1.0/callback/', '/api/v1.0/authenticate/']) {
          const page = await new Browser().request(`${harness.appUrl}${path}`, { headers: json });
          expect({ path, status: page.status < 500, nosniff: page.headers.get('x-content-type-options') }).toEqual({ path, status: true, nosniff: 'nosniff' });
          expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
          expect(page.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
          expect(page.headers.get('cache-control')).toBe('no-store');
          expect(page.headers.has('strict-transport-security')).toBe(production);
        }
      }
      // The host's own routes beside the library's are left to the host.
      expect((await new Browser().request(`${dev.appUrl}/whoami`)).headers.has('content-security-policy')).toBe(false);
    } finally {
      await dev.close();
      await prod.close();
    }
  });

  it('limits authenticate/ and callback/ per client IP with a 429 JSON and Retry-After; TRUST_PROXY decides who the client is', async () => {
    const direct = await startLoginHarness(db, { RATE_LIMIT_PER_MINUTE: '3' });
    const proxied = await startLoginHarness(db, { RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY: '1' });
    try {
      const hit = (harness: LoginHarness, path: string, ip?: string) =>
        new Browser().request(`${harness.appUrl}/api/v1.0/${path}`, { headers: { ...json, ...(ip && { 'x-forwarded-for': ip }) } });
      for (const path of ['authenticate/', 'callback/']) {
        const statuses: number[] = [];
        for (let i = 0; i < 4; i += 1) statuses.push((await hit(direct, path, `203.0.113.${i}`)).status); // a forged header changes nothing
        expect(statuses.slice(0, 3).every((status) => status !== 429)).toBe(true);
        const limited = await hit(direct, path);
        expect(limited.status).toBe(429);
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(JSON.parse(limited.body)).toEqual({ detail: 'Too many requests: try again later' });
      }
      // Behind a trusted proxy, X-Forwarded-For names the client: each has its own budget.
      for (let i = 0; i < 3; i += 1) expect((await hit(proxied, 'callback/', '198.51.100.1')).status).not.toBe(429);
      expect((await hit(proxied, 'callback/', '198.51.100.1')).status).toBe(429);
      expect((await hit(proxied, 'callback/', '198.51.100.2')).status).not.toBe(429);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });

  it('limits failed bearer keys only, and logs them without key material', async () => {
    const harness = await startLoginHarness(db, { RATE_LIMIT_PER_MINUTE: '3', PROVISIONING_API_KEY: KEY });
    try {
      const provision = (key: string) =>
        new Browser().request(`${harness.appUrl}/api/v1.0/provisioning/maildomains/`, {
          method: 'POST',
          json: { domains: ['rl.fr'] },
          headers: { ...json, authorization: `Bearer ${key}` },
        });
      for (let i = 0; i < 5; i += 1) expect((await provision(KEY)).status).toBe(200); // good keys do not count
      for (let i = 0; i < 3; i += 1) expect((await provision(`wrong-${i}`)).status).toBe(403);
      const limited = await provision(KEY);
      expect(limited.status).toBe(429);
      expect(limited.headers.has('retry-after')).toBe(true);
      const refusals = harness.logger.entries.filter((entry) => entry.message === 'API key refused');
      expect(refusals).toHaveLength(3);
      expect(refusals[0]!.fields).toMatchObject({ route: '/api/v1.0/provisioning/maildomains/' });
      expect(harness.logger.text()).not.toContain('wrong-');
      expect(harness.logger.text()).not.toContain(KEY);
    } finally {
      await harness.close();
    }
  });

  (process.env.TEST_REDIS_URL ? it : it.skip)('shares the counters of several instances through Redis', async () => {
    const env = { RATE_LIMIT_PER_MINUTE: '4', REDIS_URL: process.env.TEST_REDIS_URL!, ENTITLEMENTS_CACHE_PREFIX: `rl-${randomBytes(4).toString('hex')}` };
    const [a, b] = [await startLoginHarness(db, env), await startLoginHarness(db, env)];
    try {
      const hit = (harness: LoginHarness) => new Browser().request(`${harness.appUrl}/api/v1.0/callback/`, { headers: json });
      for (const harness of [a, b, a, b]) expect((await hit(harness)).status).not.toBe(429);
      expect((await hit(a)).status).toBe(429);
      expect((await hit(b)).status).toBe(429);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('serves /metrics on the main port only with METRICS_API_KEY in production, openly in development', async () => {
    const secret = randomBytes(32).toString('hex');
    const production = { NODE_ENV: 'production', SESSION_SECRET: secret };
    const dev = await startLoginHarness(db);
    const prodNoKey = await startLoginHarness(db, production);
    const prodKey = await startLoginHarness(db, { ...production, METRICS_API_KEY: KEY });
    try {
      const metrics = (harness: LoginHarness, key?: string) =>
        new Browser().request(`${harness.appUrl}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
      expect((await metrics(dev)).status).toBe(200);
      expect((await metrics(prodNoKey)).status).toBe(404);
      expect((await metrics(prodKey)).status).toBe(404);
      expect((await metrics(prodKey, 'x'.repeat(40))).status).toBe(404);
      const page = await metrics(prodKey, KEY);
      expect(page.status).toBe(200);
      expect(page.body).toContain('oidc_entitlements_');
    } finally {
      await dev.close();
      await prodNoKey.close();
      await prodKey.close();
    }
  });

  it('logs each request once: method, route, status, duration, client, correlation id; no query string, no email', async () => {
    const harness = await startLoginHarness(db);
    try {
      harness.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: [] });
      const browser = harness.browser();
      await harness.login(browser, 'alice');
      await browser.request(`${harness.appUrl}/api/v1.0/users/me/`, { headers: { ...json, 'x-request-id': 'trace-42' } });
      const lines = harness.logger.entries.filter((entry) => entry.message === 'request');
      const callback = lines.find((entry) => entry.fields.route === '/api/v1.0/callback/');
      expect(callback?.fields).toMatchObject({ method: 'GET', status: 302, ip: '127.0.0.1' });
      expect(typeof callback?.fields.durationMs).toBe('number');
      expect(lines.find((entry) => entry.fields.route === '/api/v1.0/users/me/')?.fields).toMatchObject({ status: 200, requestId: 'trace-42' });
      expect(lines.filter((entry) => entry.fields.route === '/api/v1.0/users/me/')).toHaveLength(1);
      const text = JSON.stringify(lines);
      expect(text).not.toMatch(/code=|state=|alice@/);
    } finally {
      await harness.close();
    }
  });
});
