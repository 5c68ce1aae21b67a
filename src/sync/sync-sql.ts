import { randomUUID } from 'node:crypto';
import type { DatabaseProvider } from '../db/provider';
import type { AccessSource, ExistingAccess, KnownDomain, MailDomainRole, SyncCandidates, SyncPlan } from './plan';
import type { AccessAction } from './prisma-types';

/*
 * The sync's statements, one per provider. Lists travel as one JSON parameter (no parameter limit, no
 * chunking) and the database does the set work: the read returns only the rows that may change, so an
 * in-sync user costs one small answer whatever the number of domains.
 */

export interface RawQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

interface CandidateRow {
  /** Absent from the one-user statement. */
  user_id?: string;
  kind: 'not_admin' | 'not_entitled' | 'unknown' | 'version';
  domain_id: string | null;
  domain_name: string;
  access_id: string | null;
  role: MailDomainRole | null;
  source: AccessSource | null;
}

/** One user of a read: `users.id` and the normalised names it is entitled to. */
export interface CandidatesQuery {
  userId: string;
  names: string[];
}

/** What may change for one user; on PostgreSQL with the version of its row (absent: the user is gone). */
export type UserCandidates = SyncCandidates & { version?: string };

/*
 * The read of a sync, for any number of users (a login reads one, a resync batch hundreds): the names
 * resolved once (MATERIALIZED), then every step a lookup by key or a hashed `NOT IN`, whatever the
 * planner estimates (a JSON list has no statistics: on PostgreSQL, plain joins became sequential scans of
 * every user's accesses, 45 ms per batch at 50,000 rows and growing with the table; LATERAL subqueries
 * with LIMIT/OFFSET and scalar subqueries are never flattened into such joins). The (user, name) pairs
 * come as one flat list: PostgreSQL guesses 100 rows per JSON list, and a list of lists, guessed at
 * 10,000, priced the statement over `jit_above_cost` — 18 ms of JIT compilation on every sync. Domain
 * names of the users' other rows are read only for the rows returned; on PostgreSQL each user row's
 * version too.
 */
const CANDIDATES: Record<DatabaseProvider, string> = {
  postgresql: `
    WITH subjects AS MATERIALIZED (SELECT value AS user_id FROM jsonb_array_elements_text($1::jsonb)),
    resolved AS MATERIALIZED (
      SELECT p.user_id, p.name, d.id FROM (SELECT e->>0 AS user_id, e->>1 AS name FROM jsonb_array_elements($2::jsonb) e) p LEFT JOIN mail_domains d ON d.name = p.name),
    held AS MATERIALIZED (
      SELECT a.* FROM subjects s CROSS JOIN LATERAL (
        SELECT a.id, a.user_id, a.maildomain_id, a.role, a.source FROM mail_domain_accesses a WHERE a.user_id = s.user_id OFFSET 0) a)
    SELECT r.user_id, CASE WHEN r.id IS NULL THEN 'unknown' ELSE 'not_admin' END AS kind, r.id AS domain_id, r.name AS domain_name,
           a.id AS access_id, a.role::text AS role, a.source::text AS source
      FROM resolved r LEFT JOIN held a ON a.maildomain_id = r.id AND a.user_id = r.user_id
      WHERE a.role IS NULL OR a.role <> 'ADMIN'
    UNION ALL
    SELECT a.user_id, 'not_entitled', a.maildomain_id, (SELECT d.name FROM mail_domains d WHERE d.id = a.maildomain_id), a.id, a.role::text, a.source::text
      FROM held a
      WHERE a.role = 'ADMIN' AND (a.user_id, a.maildomain_id) NOT IN (SELECT user_id, id FROM resolved WHERE id IS NOT NULL)
    UNION ALL
    SELECT s.user_id, 'version', NULL, (SELECT u.xmin::text FROM users u WHERE u.id = s.user_id), NULL, NULL, NULL FROM subjects s`,
  sqlite: `
    WITH subjects AS MATERIALIZED (SELECT value AS user_id FROM json_each(?)),
    resolved AS MATERIALIZED (
      SELECT p.user_id, p.name, d.id FROM (SELECT value ->> 0 AS user_id, value ->> 1 AS name FROM json_each(?)) p LEFT JOIN mail_domains d ON d.name = p.name)
    SELECT r.user_id, CASE WHEN r.id IS NULL THEN 'unknown' ELSE 'not_admin' END AS kind, r.id AS domain_id, r.name AS domain_name,
           a.id AS access_id, a.role, a.source
      FROM resolved r LEFT JOIN mail_domain_accesses a ON a.maildomain_id = r.id AND a.user_id = r.user_id
      WHERE a.role IS NULL OR a.role <> 'ADMIN'
    UNION ALL
    SELECT a.user_id, 'not_entitled', a.maildomain_id, (SELECT d.name FROM mail_domains d WHERE d.id = a.maildomain_id), a.id, a.role, a.source
      FROM subjects s JOIN mail_domain_accesses a ON a.user_id = s.user_id
      WHERE a.role = 'ADMIN' AND (a.user_id, a.maildomain_id) NOT IN (SELECT user_id, id FROM resolved WHERE id IS NOT NULL)`,
};

/**
 * The read of one user (a login): the same rows from a statement where the user is a constant, so the
 * planner picks the user's rows by index and joins the names as their number says. Measured in sync
 * against the batch statement with one user (npm run bench:sync): 23.5 against 31 ms at 10,000 domains
 * on PostgreSQL, and faster at every N on both databases.
 */
function oneUserSql(provider: DatabaseProvider): string {
  const pg = provider === 'postgresql';
  const [json, user, text] = pg ? ['jsonb_array_elements_text($1::jsonb)', '$2', '::text'] : ['json_each(?)', '?', ''];
  return `
    WITH resolved AS MATERIALIZED (SELECT n.value AS name, d.id FROM ${json} n LEFT JOIN mail_domains d ON d.name = n.value)
    SELECT CASE WHEN r.id IS NULL THEN 'unknown' ELSE 'not_admin' END AS kind, r.id AS domain_id, r.name AS domain_name,
           a.id AS access_id, a.role${text} AS role, a.source${text} AS source
      FROM resolved r LEFT JOIN mail_domain_accesses a ON a.maildomain_id = r.id AND a.user_id = ${user}
      WHERE a.role IS NULL OR a.role <> 'ADMIN'
    UNION ALL
    SELECT 'not_entitled', a.maildomain_id, (SELECT d.name FROM mail_domains d WHERE d.id = a.maildomain_id), a.id, a.role${text}, a.source${text}
      FROM mail_domain_accesses a
      WHERE a.user_id = ${user} AND a.role = 'ADMIN' AND a.maildomain_id NOT IN (SELECT id FROM resolved WHERE id IS NOT NULL)
    ${pg ? `UNION ALL SELECT 'version', NULL, u.xmin::text, NULL, NULL, NULL FROM users u WHERE u.id = ${user}` : ''}`;
}

const ONE_USER: Record<DatabaseProvider, string> = { postgresql: oneUserSql('postgresql'), sqlite: oneUserSql('sqlite') };

/**
 * The one read of a sync, for one user or a batch: what may need a change for each user and its
 * (normalised) names. On PostgreSQL also the version of each user row (its `xmin`: every writer of a
 * user's accesses updates that row, the access API and the sync alike), which the apply checks; a user
 * with no version no longer exists.
 */
export async function readCandidates(db: RawQueryable, provider: DatabaseProvider, queries: CandidatesQuery[]): Promise<Map<string, UserCandidates>> {
  const [only] = queries;
  const rows =
    queries.length === 1
      ? await db.$queryRawUnsafe<CandidateRow[]>(
          ONE_USER[provider],
          JSON.stringify(only!.names),
          ...(provider === 'postgresql' ? [only!.userId] : [only!.userId, only!.userId]),
        )
      : await db.$queryRawUnsafe<CandidateRow[]>(
          CANDIDATES[provider],
          JSON.stringify(queries.map(({ userId }) => userId)),
          JSON.stringify(queries.flatMap(({ userId, names }) => names.map((name) => [userId, name]))),
        );
  const byUser = new Map<string, UserCandidates>(queries.map(({ userId }) => [userId, { notAdmin: [], notEntitled: [], unknownNames: [] }]));
  for (const row of rows) {
    const candidates = byUser.get(row.user_id ?? only!.userId)!; // the one-user statement names no user
    if (row.kind === 'version')
      candidates.version = row.domain_name ?? undefined; // NULL: the user is gone
    else if (row.kind === 'unknown') candidates.unknownNames.push(row.domain_name);
    else {
      const domain: KnownDomain = { id: row.domain_id!, name: row.domain_name };
      const access: ExistingAccess | null = row.access_id ? { id: row.access_id, maildomainId: domain.id, role: row.role!, source: row.source! } : null;
      if (row.kind === 'not_admin') candidates.notAdmin.push({ domain, access });
      else candidates.notEntitled.push({ domain, access: access! });
    }
  }
  for (const { userId, names } of queries) {
    const candidates = byUser.get(userId)!;
    if (candidates.unknownNames.length > 1) {
      const unknown = new Set(candidates.unknownNames);
      candidates.unknownNames = names.filter((name) => unknown.has(name)); // in the answer's order, for logs
    }
  }
  return byUser;
}

/** A change one apply made, as its audit row says it. */
export interface AppliedChange {
  action: AccessAction;
  domainName: string;
}

/** One user's plan to write, with the id its audit rows carry; on PostgreSQL with the version it was read at. */
export interface PlannedWrite {
  userId: string;
  plan: SyncPlan;
  correlationId: string;
  version?: string;
}

const adminDomainIds = (plan: SyncPlan) => [...plan.grants.map((domain) => domain.id), ...plan.upgrades.map(({ domain }) => domain.id)];

/**
 * PostgreSQL: the plans of one user or of a batch in one statement (atomic on its own, no BEGIN/COMMIT
 * round trips), each applied only if its user row is still at the version the plan was read at. The
 * statement updates those rows first — the lock the access API takes too — and PostgreSQL re-checks
 * each version on the row's latest state after any wait: a user whose accesses another sync or an API
 * call changed since the read gets nothing written and is left out of the answer (plan again). Each
 * write also says what it really changed (RETURNING), and the audit rows are made of that. Every lookup
 * of a table is by key (a join of these sets, whose sizes the planner cannot know, took 1.4 s for 2,000
 * changes as a nested loop). Returns the changes of each user it wrote.
 */
export async function applyPlansPostgres(db: RawQueryable, writes: PlannedWrite[], at: Date): Promise<Map<string, AppliedChange[]>> {
  const rows = await db.$queryRawUnsafe<{ user_id: string; action: string; domain_name: string | null }[]>(
    `WITH planned AS (SELECT e->>'u' AS user_id, e->>'v' AS version, e->>'c' AS correlation_id, e->'a' AS admin, e->'r' AS revoke FROM jsonb_array_elements($1::jsonb) e),
     locked AS (
       UPDATE users u SET updated_at = u.updated_at FROM planned p
       WHERE u.id = ANY(ARRAY(SELECT user_id FROM planned)) AND u.id = p.user_id AND u.xmin::text = p.version
       RETURNING u.id, p.correlation_id, p.admin, p.revoke),
     revoked AS (
       DELETE FROM mail_domain_accesses a
       WHERE a.id = ANY(ARRAY(SELECT jsonb_array_elements_text(l.revoke) FROM locked l)) AND a.user_id = ANY(ARRAY(SELECT id FROM locked)) AND a.role = 'ADMIN'
       RETURNING a.user_id, a.maildomain_id, a.source),
     upserted AS (
       INSERT INTO mail_domain_accesses AS a (id, user_id, maildomain_id, role, source, created_at, updated_at)
       SELECT gen_random_uuid()::text, l.id, d.id, 'ADMIN', 'ENTITLEMENTS', $2::timestamptz AT TIME ZONE 'UTC', $2::timestamptz AT TIME ZONE 'UTC'
       FROM locked l CROSS JOIN jsonb_array_elements_text(l.admin) AS d(id)
       ON CONFLICT (maildomain_id, user_id) DO UPDATE SET role = 'ADMIN', source = 'ENTITLEMENTS', updated_at = EXCLUDED.updated_at
         WHERE a.role <> 'ADMIN'
       RETURNING a.user_id, a.maildomain_id, (xmax = 0) AS inserted),
     changes AS (
       SELECT 'REVOKED'::"AccessAction" AS action, user_id, maildomain_id, source FROM revoked
       UNION ALL
       SELECT CASE WHEN inserted THEN 'GRANTED' ELSE 'UPGRADED' END::"AccessAction", user_id, maildomain_id, 'ENTITLEMENTS'::"AccessSource" FROM upserted),
     audited AS (
       INSERT INTO access_events (id, at, action, user_id, maildomain_id, domain_name, role, source, actor, correlation_id)
       SELECT gen_random_uuid()::text, $2::timestamptz AT TIME ZONE 'UTC', c.action, c.user_id, c.maildomain_id,
              (SELECT d.name FROM mail_domains d WHERE d.id = c.maildomain_id), 'ADMIN', c.source, 'sync', l.correlation_id
       FROM changes c JOIN locked l ON l.id = c.user_id
       RETURNING user_id, action, domain_name)
     SELECT user_id, action::text AS action, domain_name FROM audited
     UNION ALL SELECT id, 'LOCKED', NULL FROM locked`,
    JSON.stringify(
      writes.map(({ userId, version, correlationId, plan }) => ({
        u: userId,
        v: version,
        c: correlationId,
        a: adminDomainIds(plan),
        r: plan.revocations.map(({ access }) => access.id),
      })),
    ),
    at.toISOString(),
  );
  const applied = new Map<string, AppliedChange[]>();
  for (const row of rows) if (row.action === 'LOCKED') applied.set(row.user_id, []);
  for (const row of rows) if (row.action !== 'LOCKED') applied.get(row.user_id)!.push({ action: row.action as AccessAction, domainName: row.domain_name! });
  return applied;
}

export interface Executable {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** A timestamp as Prisma writes DateTime columns on SQLite. */
const sqliteTime = (at: Date) => at.toISOString().replace(/Z$/, '+00:00');

/**
 * SQLite, inside the transaction that holds the write lock (nothing else writes meanwhile, so the plans
 * are exact): the revocations of every user in one statement, the grants and upgrades in one upsert, the
 * audit rows in one.
 */
export async function applyPlansSqlite(tx: Executable, writes: PlannedWrite[], at: Date): Promise<Map<string, AppliedChange[]>> {
  const time = sqliteTime(at);
  const revoked = writes.flatMap(({ plan }) => plan.revocations.map(({ access }) => access.id));
  if (revoked.length > 0) await tx.$executeRawUnsafe(`DELETE FROM mail_domain_accesses WHERE id IN (SELECT value FROM json_each(?))`, JSON.stringify(revoked));
  const admin = writes.flatMap(({ userId, plan }) => adminDomainIds(plan).map((domain) => ({ id: randomUUID(), user: userId, domain })));
  if (admin.length > 0) {
    await tx.$executeRawUnsafe(
      `INSERT INTO mail_domain_accesses (id, user_id, maildomain_id, role, source, created_at, updated_at)
       SELECT json_extract(value, '$.id'), json_extract(value, '$.user'), json_extract(value, '$.domain'), 'ADMIN', 'ENTITLEMENTS', ?, ? FROM json_each(?) WHERE true
       ON CONFLICT (maildomain_id, user_id) DO UPDATE SET role = 'ADMIN', source = 'ENTITLEMENTS', updated_at = excluded.updated_at`,
      time,
      time,
      JSON.stringify(admin),
    );
  }
  const applied = new Map<string, AppliedChange[]>();
  const events = writes.flatMap(({ userId, plan, correlationId }) => {
    const changes = [
      ...plan.revocations.map(({ access, domain }) => ({
        action: 'REVOKED' as const,
        domainName: domain.name,
        maildomainId: domain.id,
        source: access.source,
      })),
      ...plan.upgrades.map(({ domain }) => ({
        action: 'UPGRADED' as const,
        domainName: domain.name,
        maildomainId: domain.id,
        source: 'ENTITLEMENTS' as const,
      })),
      ...plan.grants.map((domain) => ({ action: 'GRANTED' as const, domainName: domain.name, maildomainId: domain.id, source: 'ENTITLEMENTS' as const })),
    ];
    applied.set(
      userId,
      changes.map(({ action, domainName }) => ({ action, domainName })),
    );
    return changes.map((change) => ({ ...change, id: randomUUID(), userId, correlationId }));
  });
  if (events.length > 0) {
    await tx.$executeRawUnsafe(
      `INSERT INTO access_events (id, at, action, user_id, maildomain_id, domain_name, role, source, actor, correlation_id)
       SELECT json_extract(value, '$.id'), ?, json_extract(value, '$.action'), json_extract(value, '$.userId'), json_extract(value, '$.maildomainId'),
              json_extract(value, '$.domainName'), 'ADMIN', json_extract(value, '$.source'), 'sync', json_extract(value, '$.correlationId')
       FROM json_each(?)`,
      time,
      JSON.stringify(events),
    );
  }
  return applied;
}
