import { randomUUID } from 'node:crypto';
import { EntitlementsUnavailableError, type Entitlements } from '../../src/entitlements/types';
import { AdminRoleSync, type SyncOptions, type SyncRequest, type SyncResult } from '../../src/sync/admin-sync';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { accessesOf, createDomains, createUser, recordingLogger } from '../support/fixtures';

const OPTIONS: SyncOptions = { preserveManual: false, maxRevocations: 1, dryRun: false };
const DOMAINS = Array.from({ length: 12 }, (_, i) => `d${i}.fr`);

type Role = 'ADMIN' | 'VIEWER';
interface Case {
  /** The user's rows before the sync: domain index → role and source. */
  rows: [number, Role, 'ENTITLEMENTS' | 'MANUAL'][];
  answer: Entitlements | EntitlementsUnavailableError;
}

/** A deterministic mix of every outcome: grants, upgrades, revocations, in sync, over the cap, skipped, invalid, unavailable. */
function cases(count: number): Case[] {
  return Array.from({ length: count }, (_, i): Case => {
    const rows: Case['rows'] = [];
    for (let d = 0; d < DOMAINS.length; d += 1) {
      const pick = (i * 7 + d * 5) % 11;
      if (pick === 0) rows.push([d, 'ADMIN', 'ENTITLEMENTS']);
      else if (pick === 1) rows.push([d, 'ADMIN', 'MANUAL']);
      else if (pick === 2) rows.push([d, 'VIEWER', 'MANUAL']);
    }
    const entitled = DOMAINS.filter((_, d) => (i + d) % 3 === 0);
    const answers: Case['answer'][] = [
      { can_access: true, can_admin_maildomains: entitled },
      { can_access: true, can_admin_maildomains: [...entitled, 'unknown.example', ' D1.FR. '] },
      { can_access: true, can_admin_maildomains: [] },
      { can_access: true, can_admin_maildomains: null },
      { can_access: true, can_admin_maildomains: [42] },
      new EntitlementsUnavailableError('connection', 'down'),
      { can_access: true, can_admin_maildomains: rows.filter(([, role]) => role === 'ADMIN').map(([d]) => DOMAINS[d]!) }, // in sync
    ];
    return { rows, answer: answers[i % answers.length]! };
  });
}

/**
 * `syncMany` shares one read and one write among many users (the batched resync, issue 14); each user
 * must end exactly as its own `sync` would have ended it.
 */
describe.each(PROVIDERS_UNDER_TEST)('a batch of syncs on %s', (provider) => {
  let db: TestDatabase;
  let domainIds: string[];

  beforeAll(async () => {
    db = await createTestDatabase(provider);
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.truncate();
    db.counter.failWhen = null;
    db.counter.afterStatement = null;
    domainIds = (await createDomains(db.prisma, DOMAINS)).map((domain) => domain.id);
  });

  async function usersFor(group: string, list: Case[]) {
    const users = [];
    for (const [i, { rows }] of list.entries()) {
      const user = await createUser(db.prisma, `${group}${i}@example.fr`);
      await db.prisma.mailDomainAccess.createMany({ data: rows.map(([d, role, source]) => ({ userId: user.id, maildomainId: domainIds[d]!, role, source })) });
      users.push(user);
    }
    return users;
  }

  /** A result without what differs between two runs: its timing, its id, the order of its changes (as PostgreSQL returns them). */
  const comparable = ({ durationMs: _duration, correlationId: _id, changes, ...result }: SyncResult) => ({
    ...result,
    changes: { granted: [...changes.granted].sort(), upgraded: [...changes.upgraded].sort(), revoked: [...changes.revoked].sort() },
  });

  const eventsOf = async (userId: string) =>
    (await db.prisma.accessEvent.findMany({ where: { userId } })).map((event) => `${event.action} ${event.domainName} ${event.source} ${event.actor}`).sort();

  it('ends each user as its own sync would, with one read and one write for the whole batch', async () => {
    const list = cases(140);
    const alone = await usersFor('alone', list);
    const batched = await usersFor('batched', list);
    const sync = new AdminRoleSync({ prisma: db.prisma, logger: recordingLogger(), options: OPTIONS });
    const expected = [];
    for (const [i, user] of alone.entries()) expected.push(await sync.sync(user, list[i]!.answer));

    db.counter.reset();
    const requests: SyncRequest[] = batched.map((user, i) => ({ user, answer: list[i]!.answer, correlationId: `batch-${i}` }));
    const results = await sync.syncMany(requests);
    // PostgreSQL: the read (in BEGIN, SET LOCAL jit = off, COMMIT), the write. SQLite: the read, then BEGIN, the
    // lock, the read again, three writes, COMMIT.
    expect(db.counter.count).toBe(provider === 'postgresql' ? 5 : 8);

    const outcomes = new Set(results.map((result) => result.outcome));
    expect([...outcomes].sort()).toEqual(['applied', 'capped', 'in_sync', 'invalid', 'skipped', 'unavailable']);
    for (const [i, user] of batched.entries()) {
      expect({ i, ...comparable(results[i]!) }).toEqual({ i, ...comparable(expected[i]!) });
      expect(await accessesOf(db.prisma, user.id)).toEqual(await accessesOf(db.prisma, alone[i]!.id));
      expect(await eventsOf(user.id)).toEqual(await eventsOf(alone[i]!.id));
      const events = await db.prisma.accessEvent.findMany({ where: { userId: user.id } });
      for (const event of events) expect(event.correlationId).toBe(`batch-${i}`);
    }
  });

  it('a user another sync changed between the read and the write is planned again: as if that sync came first; the others are written once', async () => {
    const [alice, bob] = [await createUser(db.prisma, 'alice@example.fr'), await createUser(db.prisma, 'bob@example.fr')];
    const other = db.newClient();
    let paused = false;
    db.counter.afterStatement = async (sql) => {
      if (paused || !/^\s*WITH subjects\b/.test(sql)) return;
      paused = true;
      // A login of alice on another instance syncs her to d3.fr meanwhile.
      await new AdminRoleSync({ prisma: other, logger: recordingLogger(), options: OPTIONS }).sync(alice, {
        can_access: true,
        can_admin_maildomains: ['d3.fr'],
      });
    };
    const sync = new AdminRoleSync({ prisma: db.prisma, logger: recordingLogger(), options: OPTIONS });
    const [forAlice, forBob] = await sync.syncMany([
      { user: alice, answer: { can_access: true, can_admin_maildomains: ['d0.fr', 'd1.fr'] } },
      { user: bob, answer: { can_access: true, can_admin_maildomains: ['d0.fr'] } },
    ]);
    // Written from the read before the other sync, alice would keep d3.fr: no serial order ends so.
    expect(forAlice).toMatchObject({ outcome: 'applied', granted: 2, revoked: 1, changes: { revoked: ['d3.fr'] } });
    expect(forBob).toMatchObject({ outcome: 'applied', granted: 1 });
    expect(await accessesOf(db.prisma, alice.id)).toEqual(['d0.fr:ADMIN:ENTITLEMENTS', 'd1.fr:ADMIN:ENTITLEMENTS']);
    expect(await eventsOf(alice.id)).toEqual([
      'GRANTED d0.fr ENTITLEMENTS sync',
      'GRANTED d1.fr ENTITLEMENTS sync',
      'GRANTED d3.fr ENTITLEMENTS sync',
      'REVOKED d3.fr ENTITLEMENTS sync',
    ]);
    expect(await eventsOf(bob.id)).toEqual(['GRANTED d0.fr ENTITLEMENTS sync']);
    await other.$disconnect();
  });

  it('when the shared write fails, each user is synced alone: a failure is the outcome of the user it concerns only', async () => {
    const users = await Promise.all(['a', 'b', 'c'].map((name) => createUser(db.prisma, `${name}@example.fr`)));
    const doomed = users[1]!.id;
    // Any write carrying b's rows fails: the batch's, then b's own.
    db.counter.failWhen = (sql, args) => /^\s*(WITH planned|INSERT INTO mail_domain_accesses)\b/.test(sql) && JSON.stringify(args).includes(doomed);
    const logger = recordingLogger();
    const sync = new AdminRoleSync({ prisma: db.prisma, logger, options: OPTIONS });
    const results = await sync.syncMany(users.map((user) => ({ user, answer: { can_access: true, can_admin_maildomains: ['d0.fr', 'd2.fr'] } })));
    expect(results.map((result) => result.outcome)).toEqual(['applied', 'failed', 'applied']);
    expect(await accessesOf(db.prisma, users[0]!.id)).toEqual(['d0.fr:ADMIN:ENTITLEMENTS', 'd2.fr:ADMIN:ENTITLEMENTS']);
    expect(await accessesOf(db.prisma, doomed)).toEqual([]);
    expect(await eventsOf(doomed)).toEqual([]);
    expect(await accessesOf(db.prisma, users[2]!.id)).toEqual(['d0.fr:ADMIN:ENTITLEMENTS', 'd2.fr:ADMIN:ENTITLEMENTS']);
    expect(logger.entries.filter((entry) => entry.level === 'error').map((entry) => entry.fields.user)).toEqual(['user@example.fr']);
  });

  it('a user gone before the write is skipped, the others written; the same user twice is synced twice, in order', async () => {
    const [alice, bob] = [await createUser(db.prisma, 'alice@example.fr'), await createUser(db.prisma, 'bob@example.fr')];
    const ghost = { id: randomUUID(), email: 'ghost@example.fr' };
    const sync = new AdminRoleSync({ prisma: db.prisma, logger: recordingLogger(), options: OPTIONS });
    const results = await sync.syncMany([
      { user: alice, answer: { can_access: true, can_admin_maildomains: ['d0.fr'] } },
      { user: ghost, answer: { can_access: true, can_admin_maildomains: ['d0.fr'] } },
      { user: bob, answer: { can_access: true, can_admin_maildomains: ['d3.fr'] } },
      { user: alice, answer: { can_access: true, can_admin_maildomains: ['d1.fr'] } },
    ]);
    expect(results.map((result) => [result.outcome, result.changes])).toEqual([
      ['applied', { granted: ['d0.fr'], upgraded: [], revoked: [] }],
      ['skipped', { granted: [], upgraded: [], revoked: [] }],
      ['applied', { granted: ['d3.fr'], upgraded: [], revoked: [] }],
      ['applied', { granted: ['d1.fr'], upgraded: [], revoked: ['d0.fr'] }],
    ]);
    expect(await accessesOf(db.prisma, alice.id)).toEqual(['d1.fr:ADMIN:ENTITLEMENTS']);
    expect(await db.prisma.accessEvent.count({ where: { userId: ghost.id } })).toBe(0);
  });
});
