import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DeployCenterEntitlementsBackend } from '../../src/entitlements/backends/deploycenter';
import { LocalEntitlementsBackend } from '../../src/entitlements/backends/local';
import { FallbackCacheStore } from '../../src/entitlements/cache/fallback';
import { MemoryCacheStore } from '../../src/entitlements/cache/memory';
import { RedisCacheStore } from '../../src/entitlements/cache/redis';
import type { EntitlementsCacheStore } from '../../src/entitlements/cache/store';
import { createEntitlementsBackend } from '../../src/entitlements/factory';
import { EntitlementsService, type FetchResult } from '../../src/entitlements/service';
import { EntitlementsUnavailableError } from '../../src/entitlements/types';
import { DeployCenterStandIn } from '../support/deploycenter-server';
import { freePort } from '../support/net';
import { recordingLogger } from '../support/fixtures';

const ALICE = { sub: 'sub-alice', email: 'alice@example.fr' };

describe('DeployCenter backend against a real HTTP server', () => {
  const dc = new DeployCenterStandIn();
  beforeAll(() => dc.start());
  afterAll(() => dc.stop());
  beforeEach(() => dc.reset());

  function backend({ timeout = 2, oidcClaims = ['siret'], url = dc.url } = {}) {
    const logger = recordingLogger();
    return {
      logger,
      backend: new DeployCenterEntitlementsBackend({ base_url: url, service_id: 'svc-7', timeout, oidc_claims: oidcClaims }, 'the-api-key', logger),
    };
  }

  it('sends the query and the X-Service-Auth header of the contract, and returns the entitlements', async () => {
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true, can_admin_maildomains: ['a.fr'], can_create: false, can_create_reason: 'quota' });
    const answer = await backend().backend.getUserEntitlements({ ...ALICE, userInfo: { siret: '123', name: 'ignored' } });
    expect(answer).toEqual({ can_access: true, can_admin_maildomains: ['a.fr'], can_create: false, can_create_reason: 'quota' });
    expect(dc.requests).toHaveLength(1);
    expect(dc.requests[0]!.path).toBe('/api/v1.0/entitlements/');
    expect(dc.requests[0]!.query).toEqual({ service_id: 'svc-7', account_type: 'user', account_email: ALICE.email, siret: '123' });
    expect(dc.requests[0]!.headers['x-service-auth']).toBe('Bearer the-api-key');
  });

  it.each([[{}], [{ siret: '' }], [{ siret: null }], [undefined]])('leaves out a claim the userinfo does not carry (%j)', async (userInfo) => {
    await backend().backend.getUserEntitlements({ ...ALICE, userInfo: userInfo as Record<string, unknown> | undefined });
    expect(dc.requests[0]!.query).not.toHaveProperty('siret');
  });

  it.each([
    ['no entitlements key', { organization: {} }],
    ['an entitlements value that is not an object', { organization: {}, entitlements: ['can_access'] }],
  ])('reads a 2xx object with %s as an answer that grants nothing (not an outage)', async (_label, json) => {
    dc.reply = () => ({ json });
    expect(await backend().backend.getUserEntitlements(ALICE)).toEqual({ can_access: false, can_admin_maildomains: null });
  });

  it('reads a missing can_admin_maildomains as null', async () => {
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true });
    expect((await backend().backend.getUserEntitlements(ALICE)).can_admin_maildomains).toBeNull();
  });

  it.each([
    ['a 500', { status: 500, json: { detail: 'error' } }, 'http_status'],
    ['a 403', { status: 403, json: { detail: 'bad key' } }, 'http_status'],
    ['a timeout', { delayMs: 1500, json: {} }, 'timeout'],
    ['invalid JSON', { raw: '<html>oops' }, 'invalid_json'],
    ['a JSON array', { json: [{ entitlements: {} }] }, 'invalid_body'],
    ['a JSON string', { json: 'ok' }, 'invalid_body'],
  ])('is unavailable on %s', async (_label, reply, reason) => {
    dc.reply = () => reply;
    const { backend: dcBackend, logger } = backend({ timeout: 0.3 });
    const error = await dcBackend.getUserEntitlements(ALICE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EntitlementsUnavailableError);
    expect((error as EntitlementsUnavailableError).reason).toBe(reason);
    expect(logger.text()).not.toContain('alice@');
    expect(logger.text()).not.toContain('the-api-key');
  });

  it('bounds the whole call by `timeout`, however slowly the answer trickles in', async () => {
    const trickler = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = JSON.stringify({ entitlements: { can_access: true } });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= body.length) return clearInterval(timer);
        res.write(body[sent++]);
      }, 400);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => trickler.listen(0, '127.0.0.1', resolve));
    try {
      const { backend: dcBackend } = backend({ timeout: 1, url: `http://127.0.0.1:${(trickler.address() as AddressInfo).port}/` });
      const started = performance.now();
      const error = await dcBackend.getUserEntitlements(ALICE).catch((e: unknown) => e);
      expect((error as EntitlementsUnavailableError).reason).toBe('timeout');
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      trickler.closeAllConnections();
      await new Promise((resolve) => trickler.close(resolve));
    }
  });

  it('is unavailable when the connection is refused', async () => {
    const { backend: dcBackend } = backend({ url: `http://127.0.0.1:${await freePort()}/api/v1.0/entitlements/` });
    await expect(dcBackend.getUserEntitlements(ALICE)).rejects.toMatchObject({ name: 'EntitlementsUnavailableError', reason: 'connection' });
  });

  it('the local backend allows access and manages no admin rights', async () => {
    expect(await new LocalEntitlementsBackend().getUserEntitlements()).toEqual({ can_access: true, can_admin_maildomains: null, can_create: true });
  });

  it('the factory loads a custom backend from a module path', async () => {
    const logger = recordingLogger();
    const custom = createEntitlementsBackend({ backend: './test/support/custom-backend.ts', parameters: { flag: 'x' }, apiKey: 'k' }, logger);
    expect(await custom.getUserEntitlements(ALICE)).toEqual({ can_access: true, can_admin_maildomains: ['custom.fr'], parameters: { flag: 'x' } });
  });
});

const STORES: [string, () => Promise<EntitlementsCacheStore>][] = [['in-process (lru-cache)', async () => new MemoryCacheStore(1000)]];
if (process.env.TEST_REDIS_URL) {
  STORES.push([
    'Redis',
    async () => {
      const store = new RedisCacheStore(process.env.TEST_REDIS_URL!);
      await store.ready();
      return store;
    },
  ]);
}

describe.each(STORES)('the entitlements cache on %s', (_name, makeStore) => {
  const dc = new DeployCenterStandIn();
  let store: EntitlementsCacheStore;
  let clock: number;
  let fetches: FetchResult[];
  let prefix: string;

  beforeAll(() => dc.start());
  afterAll(() => dc.stop());
  beforeEach(async () => {
    dc.reset();
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true, can_admin_maildomains: ['a.fr'] });
    store = await makeStore();
    clock = Date.now();
    fetches = [];
    prefix = `test-${randomBytes(4).toString('hex')}`;
  });
  afterEach(() => store.close());

  function service({ timeout = 300, staleTimeout = 3600 } = {}) {
    const logger = recordingLogger();
    const backend = new DeployCenterEntitlementsBackend({ base_url: dc.url, service_id: 's', timeout: 1, oidc_claims: [] }, 'k', logger);
    return {
      logger,
      service: new EntitlementsService({
        backend,
        store,
        cache: { timeout, staleTimeout, prefix, maxKeys: 1000 },
        logger,
        now: () => clock,
        onFetch: (result) => fetches.push(result),
      }),
    };
  }

  it('a fresh hit makes no request; a forced refresh does', async () => {
    const { service: entitlements } = service();
    await entitlements.getUserEntitlements(ALICE);
    clock += 299_000;
    await entitlements.getUserEntitlements(ALICE);
    expect(dc.requests).toHaveLength(1);
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true, can_admin_maildomains: ['b.fr'] });
    expect((await entitlements.getUserEntitlements({ ...ALICE, forceRefresh: true })).can_admin_maildomains).toEqual(['b.fr']);
    expect(dc.requests).toHaveLength(2);
    expect(fetches).toEqual(['miss', 'fresh_hit', 'refresh']);
  });

  it('asks again once the answer is older than the fresh window', async () => {
    const { service: entitlements } = service();
    await entitlements.getUserEntitlements(ALICE);
    clock += 301_000;
    await entitlements.getUserEntitlements(ALICE);
    expect(dc.requests).toHaveLength(2);
  });

  it('serves the last good answer after the TTL and within the stale window, then is unavailable', async () => {
    const { service: entitlements, logger } = service({ timeout: 300, staleTimeout: 3600 });
    await entitlements.getUserEntitlements(ALICE);
    dc.reply = () => ({ status: 502 });
    clock += 1_000_000;
    expect((await entitlements.getUserEntitlements(ALICE)).can_admin_maildomains).toEqual(['a.fr']);
    expect(logger.entries.some((entry) => /stale/.test(entry.message))).toBe(true);
    expect((await entitlements.getUserEntitlements({ ...ALICE, forceRefresh: true })).can_admin_maildomains).toEqual(['a.fr']);
    clock += 2_700_000;
    await expect(entitlements.getUserEntitlements(ALICE)).rejects.toBeInstanceOf(EntitlementsUnavailableError);
    expect(fetches).toEqual(['miss', 'stale_served', 'stale_served', 'unavailable']);
  });

  it('never caches a failure', async () => {
    const { service: entitlements } = service();
    dc.reply = () => ({ status: 500 });
    await expect(entitlements.getUserEntitlements(ALICE)).rejects.toBeInstanceOf(EntitlementsUnavailableError);
    dc.reply = dc.defaultReply;
    expect((await entitlements.getUserEntitlements(ALICE)).can_access).toBe(true);
    expect(dc.requests).toHaveLength(2);
  });

  it('makes one upstream request for 50 concurrent calls of one user', async () => {
    dc.reply = (request) => ({ ...dc.defaultReply(request), delayMs: 100 });
    const { service: entitlements } = service();
    const answers = await Promise.all(Array.from({ length: 50 }, () => entitlements.getUserEntitlements(ALICE)));
    expect(dc.requests).toHaveLength(1);
    expect(answers.every((answer) => answer.can_access === true)).toBe(true);
  });

  it('keys answers by sub under the prefix, and never caches an empty sub', async () => {
    const { service: entitlements } = service();
    await entitlements.getUserEntitlements(ALICE);
    expect(await store.get(`${prefix}:entitlements:user:${ALICE.sub}`)).toMatchObject({ value: { can_access: true } });
    await entitlements.getUserEntitlements({ sub: '', email: ALICE.email });
    await entitlements.getUserEntitlements({ sub: '', email: ALICE.email });
    expect(dc.requests).toHaveLength(3);
  });
});

describe('cache bounds and shared-store hygiene', () => {
  it('the in-process cache stays within ENTITLEMENTS_CACHE_MAX_KEYS and still answers', async () => {
    const logger = recordingLogger();
    const store = new MemoryCacheStore(10);
    const entitlements = new EntitlementsService({
      backend: new LocalEntitlementsBackend(),
      store,
      cache: { timeout: 300, staleTimeout: 600, prefix: 'p', maxKeys: 10 },
      logger,
    });
    for (let i = 0; i < 25; i++) expect((await entitlements.getUserEntitlements({ sub: `u${i}`, email: null })).can_access).toBe(true);
    expect(store.size).toBe(10);
    await store.close();
  });

  it('a full cache evicts the least recently used answer, and never drops a refresh', async () => {
    const store = new MemoryCacheStore(2);
    const entry = (tag: string) => ({ value: { can_access: true, can_admin_maildomains: [tag] }, fetchedAt: Date.now() });
    await store.set('a', entry('a1'), 60);
    await store.set('b', entry('b1'), 60);
    await store.set('a', entry('a2'), 60); // full: a refresh of a cached key
    expect((await store.get('a'))?.value.can_admin_maildomains).toEqual(['a2']);
    await store.set('c', entry('c1'), 60); // full: b is the least recently used
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.value.can_admin_maildomains).toEqual(['a2']);
    expect((await store.get('c'))?.value.can_admin_maildomains).toEqual(['c1']);
  });

  it('a full cache never serves the answer from before a revocation, fresh or stale (maxKeys=2: rows 1 → 0 stay 0)', async () => {
    const dc = await new DeployCenterStandIn().start();
    try {
      const logger = recordingLogger();
      const entitlements = new EntitlementsService({
        backend: new DeployCenterEntitlementsBackend({ base_url: dc.url, service_id: 's', timeout: 1, oidc_claims: [] }, 'k', logger),
        store: new MemoryCacheStore(2),
        cache: { timeout: 300, staleTimeout: 3600, prefix: 'p', maxKeys: 2 },
        logger,
      });
      dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: ['a.fr'] });
      dc.entitlementsByEmail.set('bob@example.fr', { can_access: true, can_admin_maildomains: [] });
      await entitlements.getUserEntitlements({ sub: 'alice', email: 'alice@example.fr' });
      await entitlements.getUserEntitlements({ sub: 'bob', email: 'bob@example.fr' });
      dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: [] }); // revoked
      await entitlements.getUserEntitlements({ sub: 'alice', email: 'alice@example.fr', forceRefresh: true });
      expect((await entitlements.getUserEntitlements({ sub: 'alice', email: 'alice@example.fr' })).can_admin_maildomains).toEqual([]);
      dc.reply = () => ({ status: 503 }); // outage: the stale answer is the revoked one
      expect((await entitlements.getUserEntitlements({ sub: 'alice', email: 'alice@example.fr', forceRefresh: true })).can_admin_maildomains).toEqual([]);
    } finally {
      await dc.stop();
    }
  });

  (process.env.TEST_REDIS_URL ? it : it.skip)('a malformed Redis entry is a miss, not a failure', async () => {
    const store = new RedisCacheStore(process.env.TEST_REDIS_URL!);
    await store.ready();
    const key = `test-${randomBytes(4).toString('hex')}:entitlements:user:x`;
    await store.client.set(key, '{"value": "nope"}', 'EX', 60);
    expect(await store.get(key)).toBeUndefined();
    await store.client.set(key, 'not json', 'EX', 60);
    expect(await store.get(key)).toBeUndefined();
    await store.close();
  });
});

(process.env.TEST_REDIS_URL ? describe : describe.skip)('one upstream request across instances (Redis lock)', () => {
  const dc = new DeployCenterStandIn();
  beforeAll(() => dc.start());
  afterAll(() => dc.stop());
  beforeEach(() => dc.reset());

  /** `count` instances, each its own service and Redis connection, on one Redis and one prefix. */
  function instances(count: number, { lockTtlMs = 3000 } = {}) {
    const prefix = `coalesce-${randomBytes(4).toString('hex')}`;
    return Array.from({ length: count }, () => {
      const logger = recordingLogger();
      const fetches: FetchResult[] = [];
      const service = new EntitlementsService({
        backend: new DeployCenterEntitlementsBackend({ base_url: dc.url, service_id: 's', timeout: 2, oidc_claims: [] }, 'k', logger),
        store: new FallbackCacheStore(new RedisCacheStore(process.env.TEST_REDIS_URL!), new MemoryCacheStore(100), logger),
        cache: { timeout: 300, staleTimeout: 3600, prefix, maxKeys: 100 },
        lockTtlMs,
        logger,
        onFetch: (result) => fetches.push(result),
      });
      return { service, fetches };
    });
  }

  it('3 instances × 10 concurrent misses for one user make 1 request, and all get its answer', async () => {
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true, can_admin_maildomains: ['a.fr'] });
    const slow = dc.defaultReply;
    dc.reply = (request) => ({ ...slow(request), delayMs: 300 });
    const all = instances(3);
    const answers = await Promise.all(all.flatMap(({ service }) => Array.from({ length: 10 }, () => service.getUserEntitlements(ALICE))));
    expect(dc.requests).toHaveLength(1);
    expect(answers.every((answer) => answer.can_admin_maildomains?.toString() === 'a.fr')).toBe(true);
    expect(all.flatMap(({ fetches }) => fetches).filter((result) => result === 'coalesced')).toHaveLength(2);
    await Promise.all(all.map(({ service }) => service.close()));
  });

  it('forced refreshes (two tabs logging in on two instances) share one request too', async () => {
    dc.entitlementsByEmail.set(ALICE.email, { can_access: true, can_admin_maildomains: [] });
    const slow = dc.defaultReply;
    dc.reply = (request) => ({ ...slow(request), delayMs: 300 });
    const all = instances(2);
    await Promise.all(all.map(({ service }) => service.getUserEntitlements({ ...ALICE, forceRefresh: true })));
    expect(dc.requests).toHaveLength(1);
    await Promise.all(all.map(({ service }) => service.close()));
  });

  it('when the holder fails, the others ask the service themselves', async () => {
    let calls = 0;
    dc.reply = () => (++calls === 1 ? { status: 502, delayMs: 200 } : { json: { entitlements: { can_access: true } }, delayMs: 50 });
    const [holder, waiter] = instances(2);
    const first = holder!.service.getUserEntitlements(ALICE).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await waiter!.service.getUserEntitlements(ALICE);
    expect(await first).toBeInstanceOf(EntitlementsUnavailableError);
    expect(second.can_access).toBe(true);
    expect(dc.requests).toHaveLength(2);
    await Promise.all([holder!.service.close(), waiter!.service.close()]);
  });
});
