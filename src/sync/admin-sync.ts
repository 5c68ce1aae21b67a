import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SyncConfig } from '../config';
import { EntitlementsUnavailableError, type Entitlements } from '../entitlements/types';
import { userLabel, type Logger } from '../logging';
import { isEmptyPlan, planAdminSync, readEntitledDomains, type ExistingAccess, type KnownDomain, type SyncPlan } from './plan';
import { requireProvider, type DatabaseProvider } from '../db/provider';
import { lockUserRow } from '../db/user-lock';
import { insertAccessEvents, insertAdminAccesses } from './bulk-insert';
import type { AccessEventData, SyncPrismaClient, SyncPrismaTransaction } from './prisma-types';

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

/** Largest list bound in one statement: below the 32,766 parameters Prisma allows on both providers. */
const IN_CHUNK = 30_000;
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 120_000 };

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The rows a write changed are the rows the plan, read under the user's lock, said it would: anything
 * else is a writer that bypassed the lock, and the whole sync rolls back rather than audit a change
 * that did not happen.
 */
function expectChanged({ count }: { count: number }, expected: number): void {
  if (count !== expected) throw new Error(`the accesses changed under the sync (${count} rows written, ${expected} planned): rolled back`);
}

/** A plan computed but not written: the transaction returns it to say why. */
class NotWritten {
  constructor(
    readonly outcome: 'in_sync' | 'capped' | 'skipped',
    readonly plan: SyncPlan | null,
  ) {}
}

/**
 * The admin-role sync of docs/specification.md §5: reads the user's rows and the entitled domains with two
 * concurrent statements, and when something changes re-reads under a lock on the user row and applies the whole
 * plan in one transaction, with an `access_events` row per change. Statement count does not grow with
 * the number of domains (lists are chunked past the drivers' parameter limits).
 */
export class AdminRoleSync {
  private readonly provider: DatabaseProvider;

  constructor(private readonly deps: AdminRoleSyncDeps) {
    this.provider = requireProvider(deps.prisma, deps.provider, 'AdminRoleSync');
  }

  /** Never throws: a database failure is the outcome `failed`, with nothing written. */
  async sync(user: SyncSubject, answer: Entitlements | EntitlementsUnavailableError, correlationId: string = randomUUID()): Promise<SyncResult> {
    const started = performance.now();
    const finish = (outcome: SyncOutcome) => this.report(user, outcome, null, [], started, correlationId);

    if (answer instanceof EntitlementsUnavailableError) return finish('unavailable');
    const entitled = readEntitledDomains(answer.can_admin_maildomains);
    if (entitled.kind === 'unmanaged') return finish('skipped');
    if (entitled.kind === 'invalid') {
      this.deps.logger.warn({ user: userLabel(user.email), problem: entitled.problem }, 'entitlements answer unusable: admin rows left untouched');
      return finish('invalid');
    }

    try {
      return await this.reconcile(user, entitled.names, entitled.unusableNames, started, correlationId);
    } catch (error) {
      this.deps.logger.error({ user: userLabel(user.email), correlationId, err: error }, 'admin-role sync failed: rolled back');
      return finish('failed');
    }
  }

  private async reconcile(user: SyncSubject, entitled: string[], unusableNames: string[], started: number, correlationId: string): Promise<SyncResult> {
    const [knownDomains, accesses] = await Promise.all([this.findDomains(this.deps.prisma, entitled), this.readAccesses(this.deps.prisma, user.id)]);
    const plan = planAdminSync({ entitled, knownDomains, accesses, preserveManual: this.deps.options.preserveManual });
    const unknown = [...plan.unknownDomains, ...unusableNames];
    const domainNames = new Map(knownDomains.map((domain) => [domain.id, domain.name]));
    const finish = (outcome: SyncOutcome, finalPlan: SyncPlan | null) => this.report(user, outcome, finalPlan, unknown, started, correlationId, domainNames);
    if (isEmptyPlan(plan)) return finish('in_sync', plan);
    await this.nameRevokedDomains(this.deps.prisma, plan, domainNames);
    if (this.overCap(plan)) return finish('capped', plan);
    if (this.deps.options.dryRun) return finish('dry_run', plan);

    const written = await this.deps.prisma.$transaction(async (tx) => {
      if (!(await lockUserRow(tx, user.id))) return new NotWritten('skipped', null);
      // Another sync of the same user may have committed while this one waited for the lock.
      const current = planAdminSync({
        entitled,
        knownDomains,
        accesses: await this.readAccesses(tx, user.id),
        preserveManual: this.deps.options.preserveManual,
      });
      if (isEmptyPlan(current)) return new NotWritten('in_sync', current);
      if (this.overCap(current)) return new NotWritten('capped', current);
      await this.nameRevokedDomains(tx, current, domainNames);
      await this.write(tx, user.id, current, correlationId, domainNames);
      return current;
    }, TRANSACTION_OPTIONS);
    if (written instanceof NotWritten) return finish(written.outcome, written.plan);
    return finish('applied', written);
  }

  protected async findDomains(db: SyncPrismaTransaction, values: string[], by: 'name' | 'id' = 'name'): Promise<KnownDomain[]> {
    const found: KnownDomain[] = [];
    for (const part of chunks(values, IN_CHUNK)) {
      const where = by === 'name' ? { name: { in: part } } : { id: { in: part } };
      found.push(...(await db.mailDomain.findMany({ where, select: { id: true, name: true } })));
    }
    return found;
  }

  /** Revoked domains are not entitled, so their names (for the audit and the report) are read apart. */
  private async nameRevokedDomains(db: SyncPrismaTransaction, plan: SyncPlan, names: Map<string, string>): Promise<void> {
    const missing = [...new Set(plan.revocations.map((access) => access.maildomainId).filter((id) => !names.has(id)))];
    if (missing.length === 0) return;
    for (const domain of await this.findDomains(db, missing, 'id')) names.set(domain.id, domain.name);
  }

  protected readAccesses(db: SyncPrismaTransaction, userId: string): Promise<ExistingAccess[]> {
    return db.mailDomainAccess.findMany({ where: { userId }, select: { id: true, maildomainId: true, role: true, source: true } });
  }

  private overCap(plan: SyncPlan): boolean {
    const cap = this.deps.options.maxRevocations;
    return cap > 0 && plan.revocations.length > cap;
  }

  /** Every write of one sync: revocations, upgrades, grants, then their audit rows. */
  protected async write(tx: SyncPrismaTransaction, userId: string, plan: SyncPlan, correlationId: string, domainNames: Map<string, string>): Promise<void> {
    const event = (action: AccessEventData['action'], maildomainId: string, domainName: string, source: AccessEventData['source']): AccessEventData => ({
      action,
      userId,
      maildomainId,
      domainName,
      role: 'ADMIN',
      source,
      actor: 'sync',
      correlationId,
    });
    const events: AccessEventData[] = [];

    if (plan.revocations.length > 0) {
      for (const ids of chunks(
        plan.revocations.map((access) => access.id),
        IN_CHUNK,
      )) {
        expectChanged(await tx.mailDomainAccess.deleteMany({ where: { id: { in: ids } } }), ids.length);
      }
      for (const access of plan.revocations) {
        events.push(event('REVOKED', access.maildomainId, domainNames.get(access.maildomainId) ?? '', access.source));
      }
    }
    for (const ids of chunks(
      plan.upgrades.map(({ access }) => access.id),
      IN_CHUNK,
    )) {
      expectChanged(await tx.mailDomainAccess.updateMany({ where: { id: { in: ids } }, data: { role: 'ADMIN', source: 'ENTITLEMENTS' } }), ids.length);
    }
    events.push(...plan.upgrades.map(({ domain }) => event('UPGRADED', domain.id, domain.name, 'ENTITLEMENTS')));
    const now = new Date();
    await insertAdminAccesses(
      tx,
      this.provider,
      userId,
      plan.grants.map((domain) => domain.id),
      now,
    );
    events.push(...plan.grants.map((domain) => event('GRANTED', domain.id, domain.name, 'ENTITLEMENTS')));
    await insertAccessEvents(tx, this.provider, events, now);
  }

  private report(
    user: SyncSubject,
    outcome: SyncOutcome,
    plan: SyncPlan | null,
    unknownDomains: string[],
    started: number,
    correlationId: string,
    domainNames = new Map<string, string>(),
  ): SyncResult {
    const changes = {
      granted: plan?.grants.map((domain) => domain.name) ?? [],
      upgraded: plan?.upgrades.map(({ domain }) => domain.name) ?? [],
      revoked: plan?.revocations.map((access) => domainNames.get(access.maildomainId) ?? access.maildomainId) ?? [],
    };
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
