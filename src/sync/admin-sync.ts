import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SyncConfig } from '../config';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import { userLabel, type Logger } from '../logging';
import { isEmptyPlan, planAdminSync, readEntitledDomains, type SyncPlan } from './plan';
import { requireProvider, type DatabaseProvider } from '../db/provider';
import { lockUserRowsSqlite } from '../db/user-lock';
import type { SyncPrismaClient, SyncPrismaTransaction } from './prisma-types';
import { applyPlansPostgres, applyPlansSqlite, readCandidates, type AppliedChange, type PlannedWrite } from './sync-sql';

/**
 * - `applied`: changes written; `in_sync`: nothing to change, nothing written;
 * - `skipped`: the backend manages no admin rights (`null` / absent), or the user no longer exists;
 * - `invalid`: `can_admin_maildomains` is not a list of strings (warning logged);
 * - `unavailable`: no answer from the entitlements service;
 * - `capped`: more revocations than ENTITLEMENTS_SYNC_MAX_REVOCATIONS, nothing written;
 * - `dry_run`: ENTITLEMENTS_SYNC_DRY_RUN, nothing written;
 * - `failed`: the database failed mid-way; the transaction rolled back, nothing written (error logged).
 */
export type SyncOutcome = 'applied' | 'in_sync' | 'skipped' | 'invalid' | 'unavailable' | 'capped' | 'dry_run' | 'failed';

/** What one admin-role sync did (also logged, one line per sync). */
export interface SyncResult {
  /** How it ended. */
  outcome: SyncOutcome;
  /** ADMIN rows created: written when `applied`, only planned when `capped` or `dry_run` (likewise below). */
  granted: number;
  /** Rows of another role made ADMIN. */
  upgraded: number;
  /** ADMIN rows removed. */
  revoked: number;
  /** Entitled names with no local mail domain (never created). */
  unknownDomains: number;
  /** How long the sync took. */
  durationMs: number;
  /** The id its audit rows and log line carry. */
  correlationId: string;
  /** The domain names behind the counts, for dry runs and the resync command's report. */
  changes: { granted: string[]; upgraded: string[]; revoked: string[] };
}

export type SyncOptions = Pick<SyncConfig, 'preserveManual' | 'maxRevocations' | 'dryRun'>;

export interface SyncSubject {
  id: string;
  email: string | null;
}

export interface AdminRoleSyncDeps {
  prisma: SyncPrismaClient;
  /** The client's database; read from the client when not given. */
  provider?: DatabaseProvider;
  logger: Logger;
  options: SyncOptions;
  /** Called with every result (metrics). */
  onResult?: (result: SyncResult) => void;
}

const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 120_000 };
/** PostgreSQL: how many times a sync plans again when other writers keep changing the user's accesses. */
const MAX_ATTEMPTS = 5;

/** How a sync ended, with the changes behind its counts (planned only, unless `applied`). */
interface Ending {
  outcome: SyncOutcome;
  changes?: SyncResult['changes'];
  unknownDomains?: string[];
}

const NO_CHANGES: SyncResult['changes'] = { granted: [], upgraded: [], revoked: [] };

function plannedChanges(plan: SyncPlan): SyncResult['changes'] {
  return {
    granted: plan.grants.map((domain) => domain.name),
    upgraded: plan.upgrades.map(({ domain }) => domain.name),
    revoked: plan.revocations.map(({ domain }) => domain.name),
  };
}

function appliedChanges(applied: AppliedChange[]): SyncResult['changes'] {
  const names = (action: AppliedChange['action']) => applied.filter((change) => change.action === action).map((change) => change.domainName);
  return { granted: names('GRANTED'), upgraded: names('UPGRADED'), revoked: names('REVOKED') };
}

/** One user's sync: who, the answer it works from, and the id its audit rows and log line carry (a new one when absent). */
export interface SyncRequest {
  user: SyncSubject;
  answer: Entitlements | EntitlementsUnavailableError;
  correlationId?: string;
}

/** A user whose answer is a list of names: what its read and write need, and where its ending goes. */
interface Job {
  index: number;
  user: SyncSubject;
  names: string[];
  unusableNames: string[];
  correlationId: string;
}

interface JobWrite extends PlannedWrite {
  job: Job;
}

/** Most entitled names in one read: a batch of users with huge lists is read in several statements. */
const MAX_NAMES_PER_STATEMENT = 50_000;

/** The jobs in groups whose reads stay under {@link MAX_NAMES_PER_STATEMENT} names, a user at most once in each. */
function chunkByNames(jobs: Job[]): Job[][] {
  const chunks: Job[][] = [];
  let chunk: Job[] = [];
  let names = 0;
  let users = new Set<string>();
  for (const job of jobs) {
    if (chunk.length > 0 && (names + job.names.length > MAX_NAMES_PER_STATEMENT || users.has(job.user.id))) {
      chunks.push(chunk);
      [chunk, names, users] = [[], 0, new Set()];
    }
    chunk.push(job);
    names += job.names.length;
    users.add(job.user.id);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/**
 * The admin-role sync of docs/specification.md §5, for one user (a login) or a batch (a resync). One read
 * answers "anything to do?" for every user of the batch with only the rows that may change
 * (sync-sql.ts); the pure diff (plan.ts) decides for each user; users in sync cost nothing more. Changes
 * are applied on PostgreSQL by one statement, checked against each user row's version, that audits what
 * it really changed (users whose row moved meanwhile are planned again), on SQLite in one short
 * transaction that takes the write lock first and plans again under it. The number of statements grows
 * neither with the number of domains nor with the number of users of a batch.
 */
export class AdminRoleSync {
  private readonly provider: DatabaseProvider;

  constructor(private readonly deps: AdminRoleSyncDeps) {
    this.provider = requireProvider(deps.prisma, deps.provider, 'AdminRoleSync');
  }

  /** Never throws: a database failure is the outcome `failed`, with nothing written. */
  async sync(user: SyncSubject, answer: Entitlements | EntitlementsUnavailableError, correlationId?: string): Promise<SyncResult> {
    return (await this.syncMany([{ user, answer, correlationId }]))[0]!;
  }

  /**
   * Each user's sync as {@link sync} does it alone — its own outcome, cap, dry run, audit rows and log
   * line — with the reads and writes of the batch shared. Results in the order of `requests`. Never
   * throws: when a shared statement fails, the users it left without an outcome are synced one by one,
   * so a failure is the outcome `failed` of the users it concerns only.
   */
  async syncMany(requests: SyncRequest[]): Promise<SyncResult[]> {
    const started = performance.now();
    const correlationIds = requests.map((request) => request.correlationId ?? randomUUID());
    const endings = new Map<number, Ending>();
    const jobs: Job[] = [];
    requests.forEach(({ user, answer }, index) => {
      const entitled = this.readAnswer(user, answer);
      if ('outcome' in entitled) endings.set(index, entitled);
      else jobs.push({ index, user, ...entitled, correlationId: correlationIds[index]! });
    });
    for (const chunk of chunkByNames(jobs)) await this.syncJobs(chunk, endings);
    return requests.map(({ user }, index) => this.report(user, endings.get(index)!, started, correlationIds[index]!));
  }

  /** The names to reconcile, or how the sync ends without reading anything. */
  private readAnswer(user: SyncSubject, answer: Entitlements | EntitlementsUnavailableError): Ending | { names: string[]; unusableNames: string[] } {
    if (answer instanceof EntitlementsUnavailableError) return { outcome: 'unavailable' };
    const entitled = readEntitledDomains(answer.can_admin_maildomains);
    if (entitled.kind === 'unmanaged') return { outcome: 'skipped' };
    if (entitled.kind === 'invalid') {
      this.deps.logger.warn({ user: userLabel(user.email), problem: entitled.problem }, 'entitlements answer unusable: admin rows left untouched');
      return { outcome: 'invalid' };
    }
    return { names: entitled.names, unusableNames: entitled.unusableNames };
  }

  private async syncJobs(jobs: Job[], endings: Map<number, Ending>): Promise<void> {
    try {
      await (this.provider === 'postgresql' ? this.syncPostgres(jobs, endings) : this.syncSqlite(jobs, endings));
    } catch (error) {
      const unfinished = jobs.filter((job) => !endings.has(job.index));
      if (unfinished.length > 1) {
        for (const job of unfinished) await this.syncJobs([job], endings);
        return;
      }
      for (const job of unfinished) {
        this.deps.logger.error({ user: userLabel(job.user.email), correlationId: job.correlationId, err: error }, 'admin-role sync failed: rolled back');
        endings.set(job.index, { outcome: 'failed' });
      }
    }
  }

  /** One read; with changes, one write checked against the versions read (users another writer came before are planned again). */
  private async syncPostgres(jobs: Job[], endings: Map<number, Ending>): Promise<void> {
    let pending = jobs;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > MAX_ATTEMPTS) throw new Error(`the user's accesses kept changing under the sync (${MAX_ATTEMPTS} attempts)`);
      const batch = pending;
      const writes = await this.withoutJit(batch.length > 1, (db) => this.plan(db, batch, endings));
      if (writes.length === 0) return;
      const applied = await applyPlansPostgres(this.deps.prisma, writes, new Date());
      pending = [];
      for (const { job, plan } of writes) {
        const changes = applied.get(job.user.id);
        if (changes)
          endings.set(job.index, {
            outcome: changes.length > 0 ? 'applied' : 'in_sync',
            changes: appliedChanges(changes),
            unknownDomains: plan.unknownDomains,
          });
        else pending.push(job);
      }
    }
  }

  /** One read; with changes, one short transaction: the write lock first (the users' rows), the plans again under it, the writes. */
  private async syncSqlite(jobs: Job[], endings: Map<number, Ending>): Promise<void> {
    const writes = await this.plan(this.deps.prisma, jobs, endings);
    if (writes.length === 0) return;
    const decided = await this.deps.prisma.$transaction(async (tx) => {
      const underLock = new Map<number, Ending>();
      const locked = await lockUserRowsSqlite(
        tx,
        writes.map(({ job }) => job.user.id),
      );
      for (const { job } of writes) if (!locked.has(job.user.id)) underLock.set(job.index, { outcome: 'skipped' }); // the user is gone
      const replanned = await this.plan(
        tx,
        writes.map(({ job }) => job).filter((job) => locked.has(job.user.id)),
        underLock,
      );
      const applied = await applyPlansSqlite(tx, replanned, new Date());
      for (const { job, plan } of replanned)
        underLock.set(job.index, { outcome: 'applied', changes: appliedChanges(applied.get(job.user.id)!), unknownDomains: plan.unknownDomains });
      return underLock;
    }, TRANSACTION_OPTIONS);
    for (const [index, ending] of decided) endings.set(index, ending);
  }

  /**
   * PostgreSQL: a batch's read with JIT compilation off. Its cost estimate rests on the tables'
   * statistics, which lag behind a mass insert (a first resync): with 1,000,000 access rows not yet
   * analysed, a batch's read was priced over `jit_above_cost` and spent 370 ms compiling to run in 33 ms.
   * `SET LOCAL` needs a transaction: three more round trips, for a batch only (a login's one statement
   * stays alone; its estimate is small once the tables have statistics). The write's estimate rests on
   * its JSON input, not on statistics, and stays far below the threshold.
   */
  private withoutJit<T>(batch: boolean, statement: (db: SyncPrismaTransaction) => Promise<T>): Promise<T> {
    if (!batch) return statement(this.deps.prisma);
    return this.deps.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('SET LOCAL jit = off');
      return statement(tx);
    }, TRANSACTION_OPTIONS);
  }

  /**
   * The read, and the pure diff of what it found for each job: the endings of jobs with nothing to write
   * (in sync, over the cap, a dry run; on PostgreSQL a user gone) go to `endings`, the others are returned.
   */
  private async plan(db: Parameters<typeof readCandidates>[0], jobs: Job[], endings: Map<number, Ending>): Promise<JobWrite[]> {
    if (jobs.length === 0) return [];
    const candidates = await readCandidates(
      db,
      this.provider,
      jobs.map(({ user, names }) => ({ userId: user.id, names })),
    );
    const writes: JobWrite[] = [];
    for (const job of jobs) {
      const found = candidates.get(job.user.id)!;
      if (this.provider === 'postgresql' && found.version === undefined) {
        endings.set(job.index, { outcome: 'skipped' }); // the user is gone
        continue;
      }
      const plan = planAdminSync(found, { preserveManual: this.deps.options.preserveManual, unusableNames: job.unusableNames });
      const held = this.holdBack(plan);
      if (held) endings.set(job.index, held);
      else writes.push({ job, userId: job.user.id, plan, correlationId: job.correlationId, version: found.version });
    }
    return writes;
  }

  /** How a plan ends without being written — nothing to do, over the revocation cap, a dry run — or `undefined`: write it. */
  private holdBack(plan: SyncPlan): Ending | undefined {
    const cap = this.deps.options.maxRevocations;
    let outcome: SyncOutcome | undefined;
    if (isEmptyPlan(plan)) outcome = 'in_sync';
    else if (cap > 0 && plan.revocations.length > cap) outcome = 'capped';
    else if (this.deps.options.dryRun) outcome = 'dry_run';
    return outcome && { outcome, changes: plannedChanges(plan), unknownDomains: plan.unknownDomains };
  }

  private report(user: SyncSubject, { outcome, changes = NO_CHANGES, unknownDomains = [] }: Ending, started: number, correlationId: string): SyncResult {
    const result: SyncResult = {
      outcome,
      granted: changes.granted.length,
      upgraded: changes.upgraded.length,
      revoked: changes.revoked.length,
      unknownDomains: unknownDomains.length,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      correlationId,
      changes,
    };
    const { changes: _changes, ...summary } = result;
    const level = outcome === 'capped' || outcome === 'failed' ? 'warn' : 'info';
    this.deps.logger[level](
      { user: userLabel(user.email), ...summary, ...(unknownDomains.length > 0 && { unknownDomainNames: unknownDomains.slice(0, 20) }) },
      outcome === 'capped' ? 'admin-role sync refused: too many revocations, nothing written' : 'admin-role sync',
    );
    this.deps.onResult?.(result);
    return result;
  }
}
