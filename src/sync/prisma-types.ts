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
  mailDomain: {
    findMany(args: { where: { id: { in: string[] } } | { name: { in: string[] } }; select: { id: true; name: true } }): Promise<{ id: string; name: string }[]>;
  };
  mailDomainAccess: {
    findMany(args: {
      where: { userId: string };
      select: { id: true; maildomainId: true; role: true; source: true };
    }): Promise<{ id: string; maildomainId: string; role: MailDomainRole; source: AccessSource }[]>;
    updateMany(args: { where: { id: { in: string[] } }; data: { role: MailDomainRole; source: AccessSource } }): Promise<{ count: number }>;
    deleteMany(args: { where: { id: { in: string[] } } }): Promise<{ count: number }>;
  };
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

export interface SyncPrismaClient extends SyncPrismaTransaction {
  $transaction<R>(fn: (tx: SyncPrismaTransaction) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
