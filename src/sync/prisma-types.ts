import type { AccessSource, MailDomainRole } from './plan';

/*
 * The library never imports a generated Prisma client: it takes the host application's client, whose
 * schema has the models of docs/specification.md §8, and describes only the calls it makes. Any PrismaClient generated
 * from prisma/models.prisma (SQLite or PostgreSQL) is assignable to these types.
 */

export type AccessAction = 'GRANTED' | 'UPGRADED' | 'REVOKED';

export interface AccessEventData {
  action: AccessAction;
  userId: string;
  maildomainId: string;
  domainName: string;
  role: MailDomainRole;
  source: AccessSource;
  actor: string;
  correlationId: string;
}

export interface SyncPrismaTransaction {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface SyncPrismaClient extends SyncPrismaTransaction {
  $transaction<R>(fn: (tx: SyncPrismaTransaction) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
