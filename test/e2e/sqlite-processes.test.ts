import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sqliteFilePath } from '../../src/db/provider';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { createDomains } from '../support/fixtures';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import { runResyncCommand } from '../support/resync-command';

const ROOT = join(__dirname, '..', '..');
const USERS = 300;
const DOMAINS = Array.from({ length: 20 }, (_, i) => `d${i}.example.fr`);

/**
 * One SQLite file, two processes writing it at once: the resync command (a child process) re-syncing
 * hundreds of users while this process serves six concurrent logins. Write-ahead logging and a busy
 * timeout make them wait for each other instead of failing with SQLITE_BUSY.
 */
describe('SQLite shared by two processes', () => {
  let db: TestDatabase;
  let h: LoginHarness;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    h = await startLoginHarness(db);
    await createDomains(db.prisma, DOMAINS);
    await db.prisma.user.createMany({ data: Array.from({ length: USERS }, (_, i) => ({ sub: `batch-${i}`, email: `batch${i}@example.fr` })) });
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  it('logins write while another process holds a long read (as Prisma Studio does)', async () => {
    h.dc.entitlementsByEmail.set('alice@example.fr', { can_access: true, can_admin_maildomains: DOMAINS });
    h.dc.entitlementsByEmail.set('bob@example.fr', { can_access: true, can_admin_maildomains: DOMAINS.slice(0, 5) });
    // A reader in another process: a read transaction kept open for 8 seconds.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.prepare('BEGIN').run(); db.prepare('SELECT count(*) FROM users').get(); console.log('reading');
         setTimeout(() => { db.prepare('COMMIT').run(); db.close(); }, 8000);`,
        sqliteFilePath(db.url),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => reader.stdout.once('data', () => resolve()));
    const started = Date.now();
    const logins = await Promise.all(['alice', 'bob', 'alice'].map((account) => h.login(h.browser(), account).then((page) => page.status)));
    const elapsed = Date.now() - started;
    await new Promise((resolve) => reader.once('exit', resolve));
    expect(logins).toEqual([200, 200, 200]);
    expect(elapsed).toBeLessThan(7000); // nobody waited for the reader
    expect(h.logger.entries.filter((entry) => /sync failed/.test(entry.message))).toEqual([]);
  }, 60_000);

  it('logins and the resync command both succeed while they write the same file', async () => {
    for (let i = 0; i < USERS; i++)
      h.dc.entitlementsByEmail.set(`batch${i}@example.fr`, { can_access: true, can_admin_maildomains: DOMAINS.slice(0, 10 + (i % 10)) });
    for (const account of ['alice', 'bob', 'carol']) {
      h.dc.entitlementsByEmail.set(`${account}@${account === 'carol' ? 'numerique.gouv.fr' : 'example.fr'}`, {
        can_access: true,
        can_admin_maildomains: DOMAINS,
      });
    }
    const resync = runResyncCommand(['--all', '--concurrency', '8'], db.url, h.dc.url, 5);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the command is under way
    const logins = await Promise.all(
      ['alice', 'bob', 'carol', 'alice', 'bob', 'carol'].map((account) => h.login(h.browser(), account).then((page) => page.status)),
    );
    const run = await resync;
    expect({ logins, failedSyncs: h.logger.entries.filter((entry) => /sync failed/.test(entry.message)).length }).toEqual({
      logins: [200, 200, 200, 200, 200, 200],
      failedSyncs: 0,
    });
    expect(run.stdout + run.stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
    expect(run.code).toBe(0);
    expect(await db.prisma.mailDomainAccess.count()).toBeGreaterThanOrEqual(USERS * 10 + 3 * DOMAINS.length);
  }, 120_000);
});
