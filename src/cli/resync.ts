import 'dotenv/config';
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { ConfigError, loadConfig } from '../config';
import { createPrismaClient, type AppPrismaClient } from '../db/client';
import { createEntitlementsService } from '../entitlements/create';
import { createLogger } from '../logging';
import { AdminRoleSync, type SyncOutcome } from '../sync/admin-sync';
import { mapConcurrently, resyncUser } from '../sync/resync';
import type { UserRecord } from '../auth/prisma-types';
import { usersBy } from '../auth/users';

/*
 * `npm run resync -- [--all | --email E | --sub S] [--dry-run] [--concurrency N]`: the sync without a
 * login, for users who no longer log in. Each user is its own transaction, so an interrupted run
 * leaves every user either synced or untouched, and running it again is safe.
 */

const USAGE = 'usage: npm run resync -- (--all | --email E | --sub S) [--dry-run] [--concurrency N]';
const PAGE = 500;

interface Totals {
  users: number;
  granted: number;
  upgraded: number;
  revoked: number;
  outcomes: Partial<Record<SyncOutcome, number>>;
}

const FAILURES: SyncOutcome[] = ['unavailable', 'failed'];

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      all: { type: 'boolean', default: false },
      email: { type: 'string' },
      sub: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '4' },
    },
    strict: true,
  });
  const targets = [values.all, values.email !== undefined, values.sub !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new Error(USAGE);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error('--concurrency must be a whole number from 1 to 256');
  return { all: values.all, email: values.email, sub: values.sub, dryRun: values['dry-run'], concurrency };
}

/** Users page by page (ordered by id), so memory stays flat however many there are. */
async function* allUsers(prisma: AppPrismaClient): AsyncGenerator<UserRecord[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await prisma.user.findMany({ orderBy: { id: 'asc' }, take: PAGE, ...(cursor && { cursor: { id: cursor }, skip: 1 }) });
    if (page.length === 0) return;
    yield page;
    cursor = page[page.length - 1]!.id;
  }
}

function summary(totals: Totals, dryRun: boolean): string {
  const rows: [string, number][] = [
    ['users', totals.users],
    [dryRun ? 'would grant' : 'granted', totals.granted],
    [dryRun ? 'would upgrade' : 'upgraded', totals.upgraded],
    [dryRun ? 'would revoke' : 'revoked', totals.revoked],
    ...Object.entries(totals.outcomes).map(([outcome, count]): [string, number] => [`outcome ${outcome}`, count ?? 0]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, count]) => `${label.padEnd(width)}  ${String(count).padStart(7)}`).join('\n');
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const config = loadConfig();
  // The run's own lines go to stdout; the library's logs to stderr, warnings and errors only.
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }, 2);
  const prisma = createPrismaClient(config.databaseUrl);
  const entitlements = createEntitlementsService({ config, logger });
  const adminSync = new AdminRoleSync({ prisma, logger, options: { ...config.entitlements.sync, dryRun: options.dryRun || config.entitlements.sync.dryRun } });
  const totals: Totals = { users: 0, granted: 0, upgraded: 0, revoked: 0, outcomes: {} };
    const total = options.all ? await prisma.user.count() : undefined;
  // A dry run prints its diff line by line: no bar over it.
  const bar = process.stdout.isTTY === true && !options.dryRun ? new SingleBar({ format: 'resync [{bar}] {value}/{total} users  {eta_formatted} left', hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(total ?? 0, 0);
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
  });

  const run = async (users: UserRecord[]) => {
    await mapConcurrently(users, options.concurrency, async (user) => {
      if (interrupted) return;
      const result = await resyncUser({ entitlements, adminSync }, user);
      totals.users += 1;
      totals.granted += result.granted;
      totals.upgraded += result.upgraded;
      totals.revoked += result.revoked;
      totals.outcomes[result.outcome] = (totals.outcomes[result.outcome] ?? 0) + 1;
      const changed = result.granted + result.upgraded + result.revoked > 0;
      if (bar) {
        bar.increment();
        return;
      }
      const diff = options.dryRun && changed ? ` +[${result.changes.granted.join(' ')}] ^[${result.changes.upgraded.join(' ')}] -[${result.changes.revoked.join(' ')}]` : '';
      console.log(`user ${user.id}: ${result.outcome}${changed ? ` (granted ${result.granted}, upgraded ${result.upgraded}, revoked ${result.revoked})` : ''}${diff}`);
    });
  };

  if (options.all) {
    for await (const page of allUsers(prisma)) {
      if (interrupted) break;
      await run(page);
    }
  } else {
    await run(await (options.sub !== undefined ? usersBy(prisma, 'sub', options.sub) : usersBy(prisma, 'email', options.email!)));
  }
  bar?.stop();
  console.log(`\n${interrupted ? 'interrupted: ' : ''}${options.dryRun ? 'dry run, nothing written' : 'resync done'}\n${summary(totals, options.dryRun)}`);
  await entitlements.close();
  await prisma.$disconnect();
  const failed = FAILURES.reduce((count, outcome) => count + (totals.outcomes[outcome] ?? 0), 0);
  if (failed > 0) console.error(`${failed} user(s) could not be synced: their rows are untouched; run again later`);
  return failed > 0 || interrupted ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`resync: ${error instanceof ConfigError || error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    process.exit(2);
  },
);
