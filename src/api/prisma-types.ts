import type { AccessEventData } from '../sync/prisma-types';
import type { AccessSource, MailDomainRole } from '../sync/plan';

/** The rows and calls of the REST surface, typed structurally like the sync's (the host's client fits). */
export interface MailDomainRow {
  id: string;
  name: string;
  customAttributes: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface AccessRow {
  id: string;
  userId: string;
  maildomainId: string;
  role: MailDomainRole;
  source: AccessSource;
  createdAt: Date;
}

export interface AccessUser {
  id: string;
  email: string | null;
  fullName: string | null;
}

/** A JSON value as parsed from a request body (what Prisma's Json columns accept). */
export type JsonValue = string | number | boolean | null | JsonObject | JsonValue[];
export interface JsonObject {
  [key: string]: JsonValue;
}

// One signature per method (a union of the arguments used): Prisma's generic methods cannot be
// checked against overloads.

export interface ApiPrismaTransaction {
  mailDomain: {
    findMany(args: {
      where?: { accesses: { some: { userId: string; role: MailDomainRole } } } | { name: { in: string[] } };
      orderBy?: { name: 'asc' };
      skip?: number;
      take?: number;
    }): Promise<MailDomainRow[]>;
    count(args: { where?: { accesses: { some: { userId: string; role: MailDomainRole } } } }): Promise<number>;
    findUnique(args: { where: { id: string } }): Promise<MailDomainRow | null>;
    create(args: { data: { name: string } }): Promise<MailDomainRow>;
    createMany(args: { data: { name: string; customAttributes: JsonObject }[] }): Promise<{ count: number }>;
    updateMany(args: { where: { id: { in: string[] } }; data: { customAttributes: JsonObject } }): Promise<{ count: number }>;
  };
  mailDomainAccess: {
    count(args: { where: { userId: string } | { maildomainId: string } }): Promise<number>;
    findFirst(args: {
      where: { userId: string; maildomainId: string; role?: MailDomainRole } | { id: string; maildomainId: string };
    }): Promise<AccessRow | null>;
    findMany(args: {
      where: { maildomainId: string };
      include: { user: true };
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }];
      skip?: number;
      take?: number;
    }): Promise<(AccessRow & { user: AccessUser })[]>;
    create(args: {
      data: { userId: string; maildomainId: string; role: MailDomainRole; source: AccessSource };
      include: { user: true };
    }): Promise<AccessRow & { user: AccessUser }>;
    delete(args: { where: { id: string } }): Promise<AccessRow>;
  };
  accessEvent: {
    create(args: { data: AccessEventData }): Promise<unknown>;
  };
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
}

export interface ApiPrismaClient extends ApiPrismaTransaction {
  $transaction<R>(fn: (tx: ApiPrismaTransaction) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}
