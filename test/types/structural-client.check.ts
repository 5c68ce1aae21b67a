// Compile-time check (tsc, in .ci/run): a client generated from prisma/models.prisma fits the
// structural types the library asks of the host's client, on both providers.
import type { PrismaClient as PostgresClient } from '../../generated/postgresql/client';
import type { PrismaClient as SqliteClient } from '../../generated/sqlite/client';
import type { SyncPrismaClient } from '../../src/sync/prisma-types';

declare const sqlite: SqliteClient;
declare const postgres: PostgresClient;
export const fromSqlite: SyncPrismaClient = sqlite;
export const fromPostgres: SyncPrismaClient = postgres;

import type { ApiPrismaClient } from '../../src/api/prisma-types';
export const apiFromSqlite: ApiPrismaClient = sqlite;
export const apiFromPostgres: ApiPrismaClient = postgres;
