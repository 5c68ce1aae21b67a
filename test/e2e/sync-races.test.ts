import { AdminRoleSync } from '../../src/sync/admin-sync';
import type { Browser } from '../support/browser';
import { PROVIDERS_UNDER_TEST } from '../support/databases';
import { adminDomainsOf, createDomains, createUser, recordingLogger } from '../support/fixtures';
import { useLoginHarness } from '../support/login-harness';

const OPTIONS = { preserveManual: false, maxRevocations: 0, dryRun: false };

/**
 * A sync and the access API on the same user at the same time (specification §5.2): the sync is paused
 * after it read what to change, while the API call is made; the end state must be that of the two run
 * one after the other, every audit row must match a row that really changed, and nobody answers 5xx.
 * On SQLite the sync is paused inside its transaction, holding the write lock: the API call waits, the
 * sync comes first. On PostgreSQL it is paused between its read and its one write: the API call goes
 * first, the sync's write finds the user row changed, and it plans again.
 */
describe.each(PROVIDERS_UNDER_TEST)('a sync racing the access API on %s', (provider) => {
  const t = useLoginHarness(provider);
  let admin: Browser;

  beforeEach(async () => {
    await t.db.prisma.user.create({ data: { sub: 'bob', email: 'bob@example.fr', isSuperuser: true } });
    admin = t.h.browser();
    await t.h.login(admin, 'bob');
  });

  /** The sync of `user` to `domains`, held after its (SQLite: locked) read until `release()`. */
  async function pausedSync(user: { id: string; email: string | null }, domains: string[]) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reachedPause!: () => void;
    const paused = new Promise<void>((resolve) => (reachedPause = resolve));
    let state: 'waiting' | 'locked' | 'done' = provider === 'postgresql' ? 'locked' : 'waiting';
    t.db.counter.afterStatement = async (sql) => {
      if (state === 'waiting' && /^UPDATE\b.*\busers\b/i.test(sql)) state = 'locked';
      else if (state === 'locked' && /^\s*WITH (subjects|resolved)\b/.test(sql)) {
        state = 'done';
        reachedPause();
        await gate;
      }
    };
    const sync = new AdminRoleSync({ prisma: t.db.prisma, logger: recordingLogger(), options: OPTIONS });
    const result = sync.sync(user, { can_access: true, can_admin_maildomains: domains });
    await paused;
    return { result, release };
  }

  afterEach(() => {
    t.db.counter.afterStatement = null;
  });

  const api = (method: string, path: string, json?: unknown) =>
    admin.request(`${t.h.appUrl}/api/v1.0${path}`, { method, json, headers: { accept: 'application/json' } });
  const events = async () =>
    (await t.db.prisma.accessEvent.findMany({ orderBy: { at: 'asc' } })).map(
      (event) => `${event.action} ${event.domainName} ${event.role} ${event.source} ${event.actor === 'sync' ? 'sync' : 'api'}`,
    );

  it('an API delete while the sync upgrades the same row: as if one ran first, audits of real changes only', async () => {
    const [a] = await createDomains(t.db.prisma, ['a.fr']);
    const alice = await createUser(t.db.prisma, 'alice@example.fr');
    const viewer = await t.db.prisma.mailDomainAccess.create({ data: { userId: alice.id, maildomainId: a!.id, role: 'VIEWER', source: 'MANUAL' } });
    const { result, release } = await pausedSync(alice, ['a.fr']);
    const deleting = api('DELETE', `/maildomains/${a!.id}/accesses/${viewer.id}/`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the API call is under way
    release();
    const [synced, deleted] = await Promise.all([result, deleting]);
    expect(deleted.status).toBe(204);
    if (provider === 'sqlite') {
      expect(synced).toMatchObject({ outcome: 'applied', upgraded: 1 });
      expect(await t.db.prisma.mailDomainAccess.count()).toBe(0);
      expect(await events()).toEqual(['UPGRADED a.fr ADMIN ENTITLEMENTS sync', 'REVOKED a.fr ADMIN ENTITLEMENTS api']);
    } else {
      expect(synced).toMatchObject({ outcome: 'applied', granted: 1, upgraded: 0 });
      expect(await t.db.prisma.mailDomainAccess.findMany({ select: { role: true, source: true } })).toEqual([{ role: 'ADMIN', source: 'ENTITLEMENTS' }]);
      expect((await events()).sort()).toEqual(['GRANTED a.fr ADMIN ENTITLEMENTS sync', 'REVOKED a.fr VIEWER MANUAL api']);
    }
  });

  it('an API grant of a domain the sync is granting: one row, one GRANTED audit, the other domains granted, a 4xx when the API comes second', async () => {
    const [a] = await createDomains(t.db.prisma, ['a.fr', 'b.fr']);
    const alice = await createUser(t.db.prisma, 'alice@example.fr');
    const { result, release } = await pausedSync(alice, ['a.fr', 'b.fr']);
    const granting = api('POST', `/maildomains/${a!.id}/accesses/`, { user: alice.id, role: 'ADMIN' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const [synced, granted] = await Promise.all([result, granting]);
    const rows = await t.db.prisma.mailDomainAccess.findMany({ include: { maildomain: true }, orderBy: { maildomain: { name: 'asc' } } });
    const rowNames = rows.map((row) => `${row.maildomain.name} ${row.role} ${row.source}`);
    if (provider === 'sqlite') {
      expect(synced).toMatchObject({ outcome: 'applied', granted: 2 });
      expect(granted.status).toBe(400);
      expect(JSON.parse(granted.body)).toEqual({ detail: 'user: this user already has an access to this mail domain' });
      expect(rowNames).toEqual(['a.fr ADMIN ENTITLEMENTS', 'b.fr ADMIN ENTITLEMENTS']);
      expect((await events()).sort()).toEqual(['GRANTED a.fr ADMIN ENTITLEMENTS sync', 'GRANTED b.fr ADMIN ENTITLEMENTS sync']);
    } else {
      expect(granted.status).toBe(201);
      expect(synced).toMatchObject({ outcome: 'applied', granted: 1 }); // b.fr: a.fr was ADMIN by then
      expect(rowNames).toEqual(['a.fr ADMIN MANUAL', 'b.fr ADMIN ENTITLEMENTS']);
      expect((await events()).sort()).toEqual(['GRANTED a.fr ADMIN MANUAL api', 'GRANTED b.fr ADMIN ENTITLEMENTS sync']);
    }
  });

  it('two syncs of one user, the second reading before the first writes: as if one after the other (found by the model-based test)', async () => {
    await createDomains(t.db.prisma, ['a.fr', 'xn--lve-6lad.fr']);
    const alice = await createUser(t.db.prisma, 'alice@example.fr');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reachedPause!: () => void;
    const paused = new Promise<void>((resolve) => (reachedPause = resolve));
    let first = true;
    t.db.counter.afterStatement = async (sql) => {
      if (!first || !/^\s*WITH (subjects|resolved)\b/.test(sql)) return;
      first = false;
      reachedPause();
      await gate;
    };
    const sync = new AdminRoleSync({ prisma: t.db.prisma, logger: recordingLogger(), options: OPTIONS });
    const late = sync.sync(alice, { can_access: true, can_admin_maildomains: ['élève.fr'] }); // read, then held
    await paused;
    expect(await sync.sync(alice, { can_access: true, can_admin_maildomains: ['a.fr'] })).toMatchObject({ outcome: 'applied', granted: 1 });
    release();
    expect(await late).toMatchObject({ outcome: 'applied', granted: 1, revoked: 1 });
    expect(await adminDomainsOf(t.db.prisma, alice.id)).toEqual(['xn--lve-6lad.fr']);
    expect((await events()).sort()).toEqual([
      'GRANTED a.fr ADMIN ENTITLEMENTS sync',
      'GRANTED xn--lve-6lad.fr ADMIN ENTITLEMENTS sync',
      'REVOKED a.fr ADMIN ENTITLEMENTS sync',
    ]);
  });

  it('two API deletes of one access at once: one 204, one 404, one REVOKED audit', async () => {
    const [a] = await createDomains(t.db.prisma, ['a.fr']);
    const alice = await createUser(t.db.prisma, 'alice@example.fr');
    const access = await t.db.prisma.mailDomainAccess.create({ data: { userId: alice.id, maildomainId: a!.id, role: 'ADMIN', source: 'MANUAL' } });
    const statuses = await Promise.all([1, 2].map(() => api('DELETE', `/maildomains/${a!.id}/accesses/${access.id}/`).then((page) => page.status)));
    expect(statuses.sort()).toEqual([204, 404]);
    expect(await events()).toEqual(['REVOKED a.fr ADMIN MANUAL api']);
  });
});
