import { randomUUID } from 'node:crypto';
import type { DatabaseProvider } from '../db/provider';
import type { AccessEventData, SyncPrismaTransaction } from './prisma-types';

/*
 * Prisma's createMany spends about 0.2 ms of client time per row, whatever the chunking: 10,000 grants
 * and their audit rows would take seconds. These inserts send every row as one JSON parameter and let
 * the database expand it (jsonb_to_recordset / json_each): one statement, no parameter limit, the
 * same rows createMany would write (uuid ids, UTC timestamps in Prisma's formats).
 */

/** A timestamp as Prisma writes DateTime columns: SQLite text `...+00:00`, PostgreSQL UTC. */
function timestamp(provider: DatabaseProvider, at: Date): string {
  const iso = at.toISOString();
  return provider === 'sqlite' ? iso.replace(/Z$/, '+00:00') : iso;
}

export async function insertAdminAccesses(
  tx: SyncPrismaTransaction,
  provider: DatabaseProvider,
  userId: string,
  maildomainIds: string[],
  at: Date,
): Promise<void> {
  if (maildomainIds.length === 0) return;
  const rows = JSON.stringify(maildomainIds.map((maildomainId) => ({ id: randomUUID(), maildomain_id: maildomainId })));
  if (provider === 'postgresql') {
    await tx.$executeRawUnsafe(
      `INSERT INTO mail_domain_accesses (id, user_id, maildomain_id, role, source, created_at, updated_at)
       SELECT r.id, $1, r.maildomain_id, 'ADMIN', 'ENTITLEMENTS', $3::timestamptz AT TIME ZONE 'UTC', $3::timestamptz AT TIME ZONE 'UTC'
       FROM jsonb_to_recordset($2::jsonb) AS r(id text, maildomain_id text)`,
      userId,
      rows,
      timestamp(provider, at),
    );
  } else {
    await tx.$executeRawUnsafe(
      `INSERT INTO mail_domain_accesses (id, user_id, maildomain_id, role, source, created_at, updated_at)
       SELECT json_extract(value, '$.id'), ?, json_extract(value, '$.maildomain_id'), 'ADMIN', 'ENTITLEMENTS', ?, ?
       FROM json_each(?)`,
      userId,
      timestamp(provider, at),
      timestamp(provider, at),
      rows,
    );
  }
}

export async function insertAccessEvents(tx: SyncPrismaTransaction, provider: DatabaseProvider, events: AccessEventData[], at: Date): Promise<void> {
  if (events.length === 0) return;
  const rows = JSON.stringify(
    events.map((event) => ({
      id: randomUUID(),
      action: event.action,
      user_id: event.userId,
      maildomain_id: event.maildomainId,
      domain_name: event.domainName,
      role: event.role,
      source: event.source,
      actor: event.actor,
      correlation_id: event.correlationId,
    })),
  );
  if (provider === 'postgresql') {
    await tx.$executeRawUnsafe(
      `INSERT INTO access_events (id, at, action, user_id, maildomain_id, domain_name, role, source, actor, correlation_id)
       SELECT r.id, $2::timestamptz AT TIME ZONE 'UTC', r.action::"AccessAction", r.user_id, r.maildomain_id, r.domain_name,
              r.role::"MailDomainRole", r.source::"AccessSource", r.actor, r.correlation_id
       FROM jsonb_to_recordset($1::jsonb)
         AS r(id text, action text, user_id text, maildomain_id text, domain_name text, role text, source text, actor text, correlation_id text)`,
      rows,
      timestamp(provider, at),
    );
  } else {
    await tx.$executeRawUnsafe(
      `INSERT INTO access_events (id, at, action, user_id, maildomain_id, domain_name, role, source, actor, correlation_id)
       SELECT json_extract(value, '$.id'), ?, json_extract(value, '$.action'), json_extract(value, '$.user_id'),
              json_extract(value, '$.maildomain_id'), json_extract(value, '$.domain_name'), json_extract(value, '$.role'),
              json_extract(value, '$.source'), json_extract(value, '$.actor'), json_extract(value, '$.correlation_id')
       FROM json_each(?)`,
      timestamp(provider, at),
      rows,
    );
  }
}
