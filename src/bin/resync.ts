import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { UserRecord } from '../auth/prisma-types';
import { UserDirectory } from '../auth/users';
import { requireProvider } from '../db/provider';
import { loadConfig } from '../config';
import { createEntitlementsService } from '../entitlements/create';
import { createLogger } from '../logging';
import type { OidcEntitlementsPrisma } from '../oidc-entitlements';
import { AdminRoleSync, type SyncOutcome } from '../sync/admin-sync';
import { DEFAULT_RESYNC_CONCURRENCY, fetchResyncAnswers, syncResyncAnswers } from '../sync/resync';
import type { UserSyncResult } from '../sync/sync-user';
import { ProgressBar } from './progress';

/*
 * `oidc-entitlements resync`: the sync without a login, for users who no longer log in. Users go by
 * batches: a batch's entitlements are fetched concurrently while the batch before is written, and each
 * batch is one shared read and at most one shared write (admin-sync.ts), so an interrupted run leaves
 * every user either synced or untouched, and running it again is safe.
 */

export const RESYNC_HELP = `oidc-entitlements resync --prisma MODULE (--all | --email E | --sub S) [--dry-run] [--concurrency N]

Re-syncs the ADMIN rows of every user (--all), or of the users with an email or a sub, from a forced
refresh of their entitlements, without a login. Reads the configuration from the environment (and
./.env). MODULE is your app's module that exports its PrismaClient (as \`prisma\` or as the default
export), e.g. ./dist/db.js. A progress bar on a terminal, otherwise a line per user whose rows change
or who could not be synced; a summary at the end. Exit code 1 when a user could not be synced (run it
again later), 2 on a usage or setup error. --concurrency: how many users' entitlements are asked for
at once (default ${DEFAULT_RESYNC_CONCURRENCY}).`;

/** Users per batch: one read of the users, one shared sync. */
const PAGE = 1000;
/** Batches written at once, while the next batch's answers are fetched. */
const WRITES_AT_ONCE = 2;
const FAILURES: SyncOutcome[] = ['unavailable', 'failed'];
/** Users left as they were, with nothing to report: no line of their own (a cron log of 100,000 users says what changed). */
const QUIET_OUTCOMES: SyncOutcome[] = ['in_sync', 'skipped'];

interface Totals {
  users: number;
  granted: number;
  upgraded: number;
  revoked: number;
  outcomes: Partial<Record<SyncOutcome, number>>;
}

/** A usage mistake: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      prisma: { type: 'string' },
      all: { type: 'boolean', default: false },
      email: { type: 'string' },
      sub: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      concurrency: { type: 'string', default: String(DEFAULT_RESYNC_CONCURRENCY) },
    },
    strict: true,
  });
  const targets = [values.all, values.email !== undefined, values.sub !== undefined].filter(Boolean).length;
  if (targets !== 1) throw new UsageError('name the users: one of --all, --email E, --sub S');
  if (!values.prisma) throw new UsageError('--prisma MODULE is required: the module of your app that exports its PrismaClient');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new UsageError('--concurrency must be a whole number from 1 to 256');
  return { prismaModule: values.prisma, all: values.all, email: values.email, sub: values.sub, dryRun: values['dry-run'], concurrency };
}

/** The host's PrismaClient, from the module it names (ESM or CommonJS; `prisma` or default export). */
async function importPrisma(modulePath: string): Promise<OidcEntitlementsPrisma & { $disconnect?: () => Promise<void> }> {
  const url = pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(process.cwd(), modulePath)).href;
  const loaded = (await import(url)) as { prisma?: unknown; default?: { prisma?: unknown } | unknown };
  const candidates = [loaded.prisma, (loaded.default as { prisma?: unknown } | undefined)?.prisma, loaded.default];
  const client = candidates.find((value) => typeof (value as { $transaction?: unknown } | undefined)?.$transaction === 'function');
  if (!client) throw new UsageError(`${modulePath} exports no PrismaClient (export it as \`prisma\` or as the default export)`);
  return client as OidcEntitlementsPrisma;
}

/** Users page by page (ordered by id), so memory stays flat however many there are. */
async function* allUsers(prisma: OidcEntitlementsPrisma): AsyncGenerator<UserRecord[]> {
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

/** `oidc-entitlements resync …`: returns the exit code. */
export async function resyncCommand(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  const config = loadConfig();
  const prisma = await importPrisma(options.prismaModule);
  // The run's own lines go to stdout; the library's logs to stderr, warnings and errors only.
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }, 2);
  const entitlements = createEntitlementsService({ config, logger });
  const adminSync = new AdminRoleSync({ prisma, logger, options: { ...config.entitlements.sync, dryRun: options.dryRun || config.entitlements.sync.dryRun } });
  const totals: Totals = { users: 0, granted: 0, upgraded: 0, revoked: 0, outcomes: {} };
  // A dry run prints its diff line by line: no bar over it.
  const bar = process.stdout.isTTY === true && !options.dryRun ? new ProgressBar(options.all ? await prisma.user.count() : 0) : undefined;
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
  });

  const record = (user: UserRecord, result: UserSyncResult) => {
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
    if (QUIET_OUTCOMES.includes(result.outcome)) return; // counted in the summary only
    const diff =
      options.dryRun && changed ? ` +[${result.changes.granted.join(' ')}] ^[${result.changes.upgraded.join(' ')}] -[${result.changes.revoked.join(' ')}]` : '';
    console.log(
      `user ${user.id}: ${result.outcome}${changed ? ` (granted ${result.granted}, upgraded ${result.upgraded}, revoked ${result.revoked})` : ''}${diff}`,
    );
  };
  // A batch's answers are fetched while the batches before are written (two at once: PostgreSQL then
  // works on both cores while this process asks for the next answers).
  const writing = new Set<Promise<void>>();
  const run = async (users: UserRecord[]) => {
    const answers = await fetchResyncAnswers(entitlements, users, options.concurrency);
    while (writing.size >= WRITES_AT_ONCE) await Promise.race(writing);
    if (interrupted) return; // the batch's answers are dropped: its users stay untouched
    const write: Promise<void> = syncResyncAnswers(adminSync, users, answers).then((results) => {
      results.forEach((result, index) => record(users[index]!, result));
      writing.delete(write);
    });
    writing.add(write);
  };

  try {
    if (options.all) {
      for await (const page of allUsers(prisma)) {
        if (interrupted) break;
        await run(page);
      }
    } else {
      const directory = new UserDirectory(prisma, requireProvider(prisma, undefined, 'resync'));
      await run(await (options.sub !== undefined ? directory.by('sub', options.sub) : directory.by('email', options.email!)));
    }
    await Promise.all(writing);
  } finally {
    bar?.stop();
    await entitlements.close();
    await prisma.$disconnect?.();
  }
  console.log(`\n${interrupted ? 'interrupted: ' : ''}${options.dryRun ? 'dry run, nothing written' : 'resync done'}\n${summary(totals, options.dryRun)}`);
  const failed = FAILURES.reduce((count, outcome) => count + (totals.outcomes[outcome] ?? 0), 0);
  if (failed > 0) console.error(`${failed} user(s) could not be synced: their rows are untouched; run again later`);
  return failed > 0 || interrupted ? 1 : 0;
}
