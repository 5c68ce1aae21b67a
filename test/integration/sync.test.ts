import { DeployCenterEntitlementsBackend } from '../../src/entitlements/backends/deploycenter';
import { MemoryCacheStore } from '../../src/entitlements/cache/memory';
import { EntitlementsService } from '../../src/entitlements/service';
import { AdminRoleSync, type SyncOptions } from '../../src/sync/admin-sync';
import type { SyncPrismaClient } from '../../src/sync/prisma-types';
import { syncUser } from '../../src/sync/sync-user';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { DeployCenterStandIn } from '../support/deploycenter-server';
import { accessesOf, adminDomainsOf, createDomains, createUser, recordingLogger, snapshot } from '../support/fixtures';

const CACHE = { timeout: 300, staleTimeout: 86400, prefix: 'sync-test', maxKeys: 1000 };
const DEFAULT_OPTIONS: SyncOptions = { preserveManual: false, maxRevocations: 0, dryRun: false };

describe.each(PROVIDERS_UNDER_TEST)('admin-role sync on %s', (provider) => {
  let db: TestDatabase;
  const dc = new DeployCenterStandIn();

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    await dc.start();
  });
  afterAll(async () => {
    await dc.stop();
    await db.drop();
  });
  beforeEach(async () => {
    await db.truncate();
    dc.reset();
    db.counter.failWhen = null;
  });

  function build(options: Partial<SyncOptions> = {}, { timeout = 2, prisma }: { timeout?: number; prisma?: SyncPrismaClient } = {}) {
    const logger = recordingLogger();
    const backend = new DeployCenterEntitlementsBackend({ base_url: dc.url, service_id: 'messages', timeout, oidc_claims: ['siret'] }, 'dc-secret-key', logger);
    const entitlements = new EntitlementsService({ backend, store: new MemoryCacheStore(CACHE.maxKeys), cache: CACHE, logger });
    const adminSync = new AdminRoleSync({ prisma: prisma ?? db.prisma, logger, options: { ...DEFAULT_OPTIONS, ...options } });
    return {
      logger,
      entitlements,
      adminSync,
      run: (user: { id: string; sub: string | null; email: string | null }, userInfo?: Record<string, unknown>) =>
        syncUser({ entitlements, adminSync }, { ...user, userInfo }),
    };
  }

  function entitle(email: string, domains: unknown, extra: Record<string, unknown> = {}) {
    dc.entitlementsByEmail.set(email, { can_access: true, can_admin_maildomains: domains, ...extra });
  }

  describe('answers that must not revoke (issue: correctness)', () => {
    it('keeps the example.fr row when the answer spells it example.fr。 (IDN full stop, then the trailing dot)', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['example.fr']);
      entitle('alice@example.fr', ['example.fr']);
      await build().run(user);
      entitle('alice@example.fr', ['example.fr。']);
      expect(await build().run(user)).toMatchObject({ outcome: 'in_sync', revoked: 0 });
      expect(await accessesOf(db.prisma, user.id)).toEqual(['example.fr:ADMIN:ENTITLEMENTS']);
    });

    it.each([[['']], [['not a domain', ' ']]])('skips %j, a list without one valid name, instead of revoking every row', async (answer) => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr']);
      entitle('alice@example.fr', ['a.fr']);
      await build().run(user);
      entitle('alice@example.fr', answer);
      const { run, logger } = build();
      expect(await run(user)).toMatchObject({ outcome: 'invalid', revoked: 0 });
      expect(await accessesOf(db.prisma, user.id)).toEqual(['a.fr:ADMIN:ENTITLEMENTS']);
      expect(logger.text()).toContain('no valid domain name');
    });

    it('skips an answer without an entitlements object: the rows stay, nothing is served stale', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr']);
      entitle('alice@example.fr', ['a.fr']);
      const { run } = build();
      await run(user);
      dc.reply = () => ({ json: { organization: {}, operator: {} } });
      const result = await run(user);
      expect(result).toMatchObject({ outcome: 'skipped', revoked: 0, entitlements: { can_access: false, can_admin_maildomains: null } });
      expect(await accessesOf(db.prisma, user.id)).toEqual(['a.fr:ADMIN:ENTITLEMENTS']);
    });
  });

  // The twelve cases of the reference implementation's TestSyncEntitlements.
  describe('reference cases', () => {
    it('creates admin access for entitled domains', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr']);
      entitle('alice@example.fr', ['a.fr', 'b.fr']);
      const result = await build().run(user);
      expect(result).toMatchObject({ outcome: 'applied', granted: 2, upgraded: 0, revoked: 0, unknownDomains: 0 });
      expect(await accessesOf(db.prisma, user.id)).toEqual(['a.fr:ADMIN:ENTITLEMENTS', 'b.fr:ADMIN:ENTITLEMENTS']);
    });

    it('removes stale admin access', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a, b] = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      await db.prisma.mailDomainAccess.createMany({
        data: [a!, b!].map((d) => ({ userId: user.id, maildomainId: d.id, role: 'ADMIN' as const, source: 'ENTITLEMENTS' as const })),
      });
      entitle('alice@example.fr', ['a.fr']);
      const result = await build().run(user);
      expect(result).toMatchObject({ outcome: 'applied', granted: 0, revoked: 1 });
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('skips when can_admin_maildomains is null', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      entitle('alice@example.fr', null);
      expect((await build().run(user)).outcome).toBe('skipped');
      dc.entitlementsByEmail.set('alice@example.fr', { can_access: true });
      expect((await build().run(user)).outcome).toBe('skipped');
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('an empty list removes every admin access', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const domains = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      await db.prisma.mailDomainAccess.createMany({
        data: domains.map((d) => ({ userId: user.id, maildomainId: d.id, role: 'ADMIN' as const, source: 'MANUAL' as const })),
      });
      entitle('alice@example.fr', []);
      expect(await build().run(user)).toMatchObject({ outcome: 'applied', revoked: 2 });
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual([]);
    });

    it('keeps rows and throws nothing when the service is unavailable', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      dc.reply = () => ({ status: 500, json: { detail: 'boom' } });
      const result = await build().run(user);
      expect(result.outcome).toBe('unavailable');
      expect(result.entitlements).toBeUndefined();
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('keeps rows when the service times out', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      dc.reply = () => ({ delayMs: 2000, json: { entitlements: { can_access: true, can_admin_maildomains: [] } } });
      const started = Date.now();
      const result = await build({}, { timeout: 0.2 }).run(user);
      expect(result.outcome).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('skips domains that do not exist locally, counts and logs them', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr']);
      entitle('alice@example.fr', ['a.fr', 'nowhere.fr', 'ghost.fr']);
      const { run, logger } = build();
      expect(await run(user)).toMatchObject({ outcome: 'applied', granted: 1, unknownDomains: 2 });
      expect(await db.prisma.mailDomain.count()).toBe(1);
      const line = logger.entries.find((entry) => entry.message === 'admin-role sync');
      expect(line?.fields).toMatchObject({ unknownDomains: 2, unknownDomainNames: ['nowhere.fr', 'ghost.fr'] });
    });

    it('does not duplicate an existing admin access', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'MANUAL' } });
      entitle('alice@example.fr', ['a.fr']);
      expect((await build().run(user)).outcome).toBe('in_sync');
      expect(await accessesOf(db.prisma, user.id)).toEqual(['a.fr:ADMIN:MANUAL']);
    });

    it('uses a forced refresh (a fresh cached answer is not used)', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr', 'b.fr']);
      entitle('alice@example.fr', ['a.fr']);
      const { entitlements, run } = build();
      await entitlements.getUserEntitlements({ sub: user.sub!, email: user.email });
      expect(dc.requests).toHaveLength(1);
      entitle('alice@example.fr', ['b.fr']);
      await run(user);
      expect(dc.requests).toHaveLength(2);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['b.fr']);
    });

    it('forwards the configured userinfo claims', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      entitle('alice@example.fr', []);
      await build().run(user, { siret: '12345678900011', other: 'not forwarded' });
      expect(dc.requests[0]!.query).toEqual({
        service_id: 'messages',
        account_type: 'user',
        account_email: 'alice@example.fr',
        siret: '12345678900011',
      });
    });

    it('writes nothing when already in sync (statements counted)', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr', 'b.fr']);
      entitle('alice@example.fr', ['a.fr', 'b.fr']);
      const { run } = build();
      await run(user);
      db.counter.reset();
      expect((await run(user)).outcome).toBe('in_sync');
      expect(db.counter.writes).toEqual([]);
      expect(db.counter.count).toBeLessThanOrEqual(3);
    });

    it('a second sync replaces the domains of the first', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr', 'd.fr']);
      const { run } = build();
      entitle('alice@example.fr', ['a.fr', 'b.fr']);
      await run(user);
      entitle('alice@example.fr', ['c.fr', 'd.fr']);
      db.counter.reset();
      expect(await run(user)).toMatchObject({ outcome: 'applied', granted: 2, revoked: 2 });
      expect(db.counter.count).toBeLessThanOrEqual(12);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['c.fr', 'd.fr']);
      const events = await db.prisma.accessEvent.findMany({ orderBy: [{ action: 'asc' }, { domainName: 'asc' }] });
      expect(events.map((e) => `${e.action}:${e.domainName}:${e.actor}`)).toEqual([
        'GRANTED:a.fr:sync',
        'GRANTED:b.fr:sync',
        'GRANTED:c.fr:sync',
        'GRANTED:d.fr:sync',
        'REVOKED:a.fr:sync',
        'REVOKED:b.fr:sync',
      ]);
    });
  });

  describe('beyond the reference', () => {
    it.each([
      ['a string', 'a.fr'],
      ['an object', { domains: ['a.fr'] }],
      ['a number element', ['a.fr', 42]],
      ['a null element', ['a.fr', null]],
    ])('skips with a warning when the list is %s', async (_label, value) => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      entitle('alice@example.fr', value);
      const { run, logger } = build();
      expect((await run(user)).outcome).toBe('invalid');
      expect(logger.entries.some((entry) => entry.level === 'warn' && /unusable/.test(entry.message))).toBe(true);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['a.fr']);
    });

    it('normalises names (case, spaces, trailing dot, IDN)', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      await createDomains(db.prisma, ['example.com', 'xn--mnchen-3ya.de']);
      entitle('alice@example.fr', ['  Example.COM. ', 'MÜNCHEN.de', 'example.com']);
      expect(await build().run(user)).toMatchObject({ outcome: 'applied', granted: 2, unknownDomains: 0 });
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(['example.com', 'xn--mnchen-3ya.de']);
    });

    it('upgrades a VIEWER row and leaves other roles untouched', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a, b] = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      await db.prisma.mailDomainAccess.createMany({
        data: [
          { userId: user.id, maildomainId: a!.id, role: 'VIEWER', source: 'MANUAL' },
          { userId: user.id, maildomainId: b!.id, role: 'VIEWER', source: 'MANUAL' },
        ],
      });
      entitle('alice@example.fr', ['a.fr']);
      expect(await build().run(user)).toMatchObject({ outcome: 'applied', upgraded: 1, revoked: 0 });
      expect(await accessesOf(db.prisma, user.id)).toEqual(['a.fr:ADMIN:ENTITLEMENTS', 'b.fr:VIEWER:MANUAL']);
      const [event] = await db.prisma.accessEvent.findMany();
      expect(event).toMatchObject({ action: 'UPGRADED', domainName: 'a.fr', role: 'ADMIN', source: 'ENTITLEMENTS', actor: 'sync' });
    });

    it.each([
      [false, ['keep.fr']],
      [true, ['keep.fr', 'manual.fr']],
    ])('with preserve-manual %s, revokes only what it may', async (preserveManual, remaining) => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const domains = await createDomains(db.prisma, ['keep.fr', 'manual.fr', 'synced.fr']);
      const id = (name: string) => domains.find((d) => d.name === name)!.id;
      await db.prisma.mailDomainAccess.createMany({
        data: [
          { userId: user.id, maildomainId: id('keep.fr'), role: 'ADMIN', source: 'ENTITLEMENTS' },
          { userId: user.id, maildomainId: id('manual.fr'), role: 'ADMIN', source: 'MANUAL' },
          { userId: user.id, maildomainId: id('synced.fr'), role: 'ADMIN', source: 'ENTITLEMENTS' },
        ],
      });
      entitle('alice@example.fr', ['keep.fr']);
      await build({ preserveManual }).run(user);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual(remaining);
    });

    it('refuses a sync over the revocation cap: nothing written, warning logged', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const domains = await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr', 'new.fr']);
      await db.prisma.mailDomainAccess.createMany({
        data: domains
          .filter((d) => d.name !== 'new.fr')
          .map((d) => ({ userId: user.id, maildomainId: d.id, role: 'ADMIN' as const, source: 'ENTITLEMENTS' as const })),
      });
      const before = await snapshot(db.prisma);
      entitle('alice@example.fr', ['new.fr']);
      const { run, logger } = build({ maxRevocations: 2 });
      expect(await run(user)).toMatchObject({ outcome: 'capped', granted: 1, revoked: 3 });
      expect(await snapshot(db.prisma)).toEqual(before);
      expect(logger.entries.some((entry) => entry.level === 'warn' && entry.fields.outcome === 'capped')).toBe(true);
      expect(await build({ maxRevocations: 3 }).run(user)).toMatchObject({ outcome: 'applied', revoked: 3 });
    });

    it('a dry run reports the diff and writes nothing', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const [a] = await createDomains(db.prisma, ['a.fr', 'b.fr']);
      await db.prisma.mailDomainAccess.create({ data: { userId: user.id, maildomainId: a!.id, role: 'ADMIN', source: 'ENTITLEMENTS' } });
      const before = await snapshot(db.prisma);
      entitle('alice@example.fr', ['b.fr']);
      db.counter.reset();
      const result = await build({ dryRun: true }).run(user);
      expect(result).toMatchObject({ outcome: 'dry_run', granted: 1, revoked: 1, changes: { granted: ['b.fr'], upgraded: [], revoked: ['a.fr'] } });
      expect(db.counter.writes).toEqual([]);
      expect(await snapshot(db.prisma)).toEqual(before);
    });

    it.each([
      ['the grants', /INSERT INTO .*mail_domain_accesses/i],
      ['the audit rows', /INSERT INTO .*access_events/i],
      ['the revocations', /DELETE FROM .*mail_domain_accesses/i],
    ])('rolls back everything when %s fail', async (_label, failing) => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const domains = await createDomains(db.prisma, ['a.fr', 'b.fr', 'c.fr']);
      await db.prisma.mailDomainAccess.createMany({
        data: [
          { userId: user.id, maildomainId: domains.find((d) => d.name === 'a.fr')!.id, role: 'ADMIN', source: 'ENTITLEMENTS' },
          { userId: user.id, maildomainId: domains.find((d) => d.name === 'b.fr')!.id, role: 'VIEWER', source: 'MANUAL' },
        ],
      });
      const before = await snapshot(db.prisma);
      entitle('alice@example.fr', ['b.fr', 'c.fr']);
      db.counter.failWhen = (sql) => failing.test(sql);
      const { run, logger } = build();
      expect(await run(user)).toMatchObject({ outcome: 'failed', granted: 0, revoked: 0 });
      expect(logger.entries.some((entry) => entry.level === 'error' && /rolled back/.test(entry.message))).toBe(true);
      db.counter.failWhen = null;
      expect(await snapshot(db.prisma)).toEqual(before);
    });

    it('20 concurrent syncs of one user end with the right rows, no error, one audit row per change', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const names = Array.from({ length: 30 }, (_, i) => `d${i}.fr`);
      const domains = await createDomains(db.prisma, names);
      await db.prisma.mailDomainAccess.createMany({
        data: domains.slice(20).map((d) => ({ userId: user.id, maildomainId: d.id, role: 'ADMIN' as const, source: 'ENTITLEMENTS' as const })),
      });
      entitle('alice@example.fr', names.slice(0, 20));
      const clients: SyncPrismaClient[] = [db.prisma, db.newClient()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => build({}, { prisma: clients[i % 2] }).run(user)));
      expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'in_sync')).toHaveLength(19);
      expect(await adminDomainsOf(db.prisma, user.id)).toEqual([...names.slice(0, 20)].sort());
      expect(await db.prisma.accessEvent.count({ where: { action: 'GRANTED' } })).toBe(20);
      expect(await db.prisma.accessEvent.count({ where: { action: 'REVOKED' } })).toBe(10);
    });

    it('handles a 50,000-name answer (parameter limits) with few statements', async () => {
      const user = await createUser(db.prisma, 'alice@example.fr');
      const names = Array.from({ length: 50_000 }, (_, i) => `big${i}.example.fr`);
      await createDomains(db.prisma, names);
      entitle('alice@example.fr', names);
      db.counter.reset();
      const { run, logger } = build();
      const result = await run(user);
      expect(logger.entries.filter((entry) => entry.level !== 'info')).toEqual([]);
      expect(result).toMatchObject({ outcome: 'applied', granted: 50_000 });
      expect(await db.prisma.mailDomainAccess.count({ where: { userId: user.id, role: 'ADMIN' } })).toBe(50_000);
      expect(await db.prisma.accessEvent.count()).toBe(50_000);
      expect(db.counter.count).toBeLessThanOrEqual(12);
    });

    it('never logs the full email', async () => {
      const user = await createUser(db.prisma, 'alice.secret@example.fr');
      dc.reply = () => ({ status: 503 });
      const { run, logger } = build();
      await run(user);
      entitle('alice.secret@example.fr', []);
      dc.reply = dc.defaultReply;
      await run(user);
      expect(logger.text()).not.toContain('alice.secret');
      expect(logger.text()).not.toContain('dc-secret-key');
      expect(logger.text()).toContain('user@example.fr');
    });
  });
});
