import { normalizeEmail, UserDirectory } from '../../src/auth/users';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';

describe('normalizeEmail', () => {
  it('trims, composes (NFC) and case-folds beyond ASCII', () => {
    expect(normalizeEmail('  ÉLODIE@Example.FR ')).toBe('élodie@example.fr');
    expect(normalizeEmail('E\u0301lodie@example.fr')).toBe('élodie@example.fr');
    expect(normalizeEmail('STRASSE@x.de')).toBe(normalizeEmail('straße@x.de'));
    expect(normalizeEmail('ΟΔΥΣΣΕΥΣ@x.gr')).toBe(normalizeEmail('οδυσσευς@x.gr'));
    expect(normalizeEmail(null)).toBe('');
    expect(normalizeEmail('   ')).toBe('');
  });
});

describe.each(PROVIDERS_UNDER_TEST)('email lookups on %s (docs/specification.md §6)', (provider) => {
  let db: TestDatabase;
  let users: UserDirectory;
  beforeAll(async () => {
    db = await createTestDatabase(provider);
    users = new UserDirectory(db.prisma, provider);
  });
  afterAll(() => db.drop());
  beforeEach(() => db.truncate());

  const idsWithEmail = async (email: string) => (await users.withEmail(email)).map((user) => user.id).sort();

  it('match Unicode-aware, trimmed and case-insensitively, also rows a host wrote without the normalised column', async () => {
    const upper = await db.prisma.user.create({ data: { email: ' ÉLODIE@Example.FR ' } });
    const decomposed = await db.prisma.user.create({ data: { email: 'e\u0301lodie@example.fr' } });
    const strasse = await db.prisma.user.create({ data: { email: 'STRASSE@x.de' } });
    await db.prisma.user.create({ data: { email: 'elodie@example.fr' } }); // no accent: another person
    await db.prisma.user.create({ data: {} });

    expect(await idsWithEmail('élodie@example.fr')).toEqual([upper.id, decomposed.id].sort());
    expect(await idsWithEmail('straße@x.de')).toEqual([strasse.id]);
    expect(await idsWithEmail('  ')).toEqual([]);
    expect(await db.prisma.user.count({ where: { emailNormalized: null } })).toBe(0);
  });

  it('fill in the normalised column in batches, then cost one statement when there is nothing to fill in', async () => {
    const emails = Array.from({ length: 2500 }, (_, i) => `User${i}@Example.FR`);
    await db.prisma.user.createMany({ data: emails.map((email) => ({ email })) });
    db.counter.reset();
    expect(await users.deriveNormalizedEmails()).toBe(2500);
    if (provider === 'sqlite') {
      // Each batch finds its users by key: a plan that scans users (or the batch for each user) took 55 s per batch at 200k users.
      const update = db.counter.statements.findIndex((sql) => /UPDATE users/.test(sql));
      const plan = (
        await db.prisma.$queryRawUnsafe<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${db.counter.statements[update]}`, ...db.counter.args[update]!)
      ).map((row) => row.detail);
      expect(plan).toContain('SEARCH users USING INDEX sqlite_autoindex_users_1 (id=?)');
      expect(plan.filter((detail) => /^SCAN (users|json_each)/.test(detail))).toHaveLength(1); // the batch, once
    }
    db.counter.reset();
    expect(await users.deriveNormalizedEmails()).toBe(0);
    expect(db.counter.count).toBe(1);
    expect(await idsWithEmail('user2499@example.fr')).toHaveLength(1);
  });

  it('never store the normalised form of an email that changed while it was computed', async () => {
    const user = await db.prisma.user.create({ data: { email: 'before@example.fr' } });
    const other = db.newClient();
    let changed = false;
    db.counter.afterStatement = async (sql) => {
      if (changed || !/^SELECT id, email FROM users/.test(sql)) return;
      changed = true;
      await other.user.update({ where: { id: user.id }, data: { email: 'after@example.fr' } });
    };
    try {
      await users.deriveNormalizedEmails();
    } finally {
      db.counter.afterStatement = null;
    }
    expect(await db.prisma.user.findUnique({ where: { id: user.id } })).toMatchObject({ email: 'after@example.fr', emailNormalized: null });
    expect(await idsWithEmail('after@example.fr')).toEqual([user.id]);
    expect(await idsWithEmail('before@example.fr')).toEqual([]);
  });

  it('go through the index, not a table scan', async () => {
    await db.prisma.user.create({ data: { email: 'alice@example.fr' } });
    await users.deriveNormalizedEmails();
    db.counter.reset();
    await users.withEmail('Alice@example.fr');
    const lookup = db.counter.statements.findIndex((sql) => /email_normalized["`]?\s*=/.test(sql));
    expect(lookup).toBeGreaterThanOrEqual(0);
    const [sql, args] = [db.counter.statements[lookup], db.counter.args[lookup]];
    let plan: string;
    if (provider === 'postgresql') {
      // The table is small: forbid the sequential scan, so the plan shows whether an index can serve.
      plan = await db.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
        return JSON.stringify(await tx.$queryRawUnsafe(`EXPLAIN ${sql}`, ...args));
      });
    } else {
      plan = JSON.stringify(await db.prisma.$queryRawUnsafe(`EXPLAIN QUERY PLAN ${sql}`, ...args), (_key, value: unknown) =>
        typeof value === 'bigint' ? Number(value) : value,
      );
    }
    expect(plan).toContain('users_email_normalized_idx');
    expect(plan).not.toMatch(/Seq Scan|SCAN users/);
  });
});
