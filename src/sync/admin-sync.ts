import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SyncConfig } from '../config';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import { userLabel, type Logger } from '../logging';
import { isEmptyPlan, planAdminSync, readEntitledDomains, type SyncPlan } from './plan';
import { requireProvider, type DatabaseProvider } from '../db/provider';
import { lockUserRow } from '../db/user-lock';
import type { SyncPrismaClient } from './prisma-types';
import { applyPlanPostgres, applyPlanSqlite, readCandidates, type AppliedChange } from './sync-sql';

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

/**
 * The admin-role sync of docs/specification.md §5. One read answers "anything to do?" with only the rows that
 * may change (sync-sql.ts); the pure diff (plan.ts) decides; an in-sync user costs that one statement.
 * Changes are applied on PostgreSQL by one statement, checked against the user row's version, that audits what it really
 * changed, on SQLite in one short transaction that takes the write lock first and plans again under it.
 * Statement count does not grow with the number of domains.
 */
export class AdminRoleSync {
  private readonly provider: DatabaseProvider;

  constructor(private readonly deps: AdminRoleSyncDeps) {
    this.provider = requireProvider(deps.prisma, deps.provider, 'AdminRoleSync');
  }

  /** Never throws: a database failure is the outcome `failed`, with nothing written. */
  async sync(user: SyncSubject, answer: Entitlements | EntitlementsUnavailableError, correlationId: string = randomUUID()): Promise<SyncResult> {
    const started = performance.now();
    const ending = await this.decide(user, answer, correlationId);
    return this.report(user, ending, started, correlationId);
  }

  private async decide(user: SyncSubject, answer: Entitlements | EntitlementsUnavailableError, correlationId: string): Promise<Ending> {
    if (answer instanceof EntitlementsUnavailableError) return { outcome: 'unavailable' };
    const entitled = readEntitledDomains(answer.can_admin_maildomains);
    if (entitled.kind === 'unmanaged') return { outcome: 'skipped' };
    if (entitled.kind === 'invalid') {
      this.deps.logger.warn({ user: userLabel(user.email), problem: entitled.problem }, 'entitlements answer unusable: admin rows left untouched');
      return { outcome: 'invalid' };
    }
    try {
      return this.provider === 'postgresql'
        ? await this.syncPostgres(user.id, entitled.names, entitled.unusableNames, correlationId)
        : await this.syncSqlite(user.id, entitled.names, entitled.unusableNames, correlationId);
    } catch (error) {
      this.deps.logger.error({ user: userLabel(user.email), correlationId, err: error }, 'admin-role sync failed: rolled back');
      return { outcome: 'failed' };
    }
  }

  /** One read; with changes, one write checked against the version read (plan again if another writer came first). */
  private async syncPostgres(userId: string, names: string[], unusableNames: string[], correlationId: string): Promise<Ending> {
    for (let attempt = 1; ; attempt += 1) {
      const { plan, version } = await this.plan(this.deps.prisma, userId, names, unusableNames);
      if (version === undefined) return { outcome: 'skipped' }; // the user is gone
      const held = this.holdBack(plan);
      if (held) return held;
      const applied = await applyPlanPostgres(this.deps.prisma, userId, version, plan, correlationId, new Date());
      if (applied !== 'stale')
        return { outcome: applied.length > 0 ? 'applied' : 'in_sync', changes: appliedChanges(applied), unknownDomains: plan.unknownDomains };
      if (attempt === MAX_ATTEMPTS) throw new Error(`the user's accesses kept changing under the sync (${MAX_ATTEMPTS} attempts)`);
    }
  }

  /** One read; with changes, one short transaction: the write lock first (the user row), the plan again under it, the writes. */
  private async syncSqlite(userId: string, names: string[], unusableNames: string[], correlationId: string): Promise<Ending> {
    const held = this.holdBack((await this.plan(this.deps.prisma, userId, names, unusableNames)).plan);
    if (held) return held;
    return this.deps.prisma.$transaction(async (tx): Promise<Ending> => {
      if (!(await lockUserRow(tx, userId))) return { outcome: 'skipped' };
      const { plan } = await this.plan(tx, userId, names, unusableNames);
      const heldNow = this.holdBack(plan);
      if (heldNow) return heldNow;
      const applied = await applyPlanSqlite(tx, userId, plan, correlationId, new Date());
      return { outcome: 'applied', changes: appliedChanges(applied), unknownDomains: plan.unknownDomains };
    }, TRANSACTION_OPTIONS);
  }

  /** The read, and the pure diff of what it found; on PostgreSQL with the user row's version. */
  private async plan(db: Parameters<typeof readCandidates>[0], userId: string, names: string[], unusableNames: string[]) {
    const candidates = await readCandidates(db, this.provider, userId, names);
    return { plan: planAdminSync(candidates, { preserveManual: this.deps.options.preserveManual, unusableNames }), version: candidates.version };
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
