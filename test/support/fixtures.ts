import type { AppPrismaClient } from '../../server/db';
import type { Logger } from '../../src/logging';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is told, to assert on warnings and on what never reaches logs. */
export function recordingLogger(): Logger & { entries: LogEntry[]; text(): string } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: unknown, message?: unknown): void => {
      entries.push({ level, fields: typeof fields === 'object' && fields ? (fields as Record<string, unknown>) : {}, message: String(message ?? fields) });
    };
  return {
    entries,
    text: () => JSON.stringify(entries),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as unknown as Logger & { entries: LogEntry[]; text(): string };
}

export async function createUser(prisma: AppPrismaClient, email: string, sub = `sub-${email}`) {
  return prisma.user.create({ data: { email, sub, fullName: 'Test User', shortName: 'Test' } });
}

export async function createDomains(prisma: AppPrismaClient, names: string[]) {
  for (let i = 0; i < names.length; i += 2000) {
    await prisma.mailDomain.createMany({ data: names.slice(i, i + 2000).map((name) => ({ name })) });
  }
  const found = await prisma.mailDomain.findMany({ where: { name: { in: names.slice(0, 5000) } } });
  const byName = new Map(found.map((domain) => [domain.name, domain]));
  return names.slice(0, 5000).map((name) => byName.get(name)!);
}

/** The user's access rows as `name:ROLE:SOURCE`, sorted. */
export async function accessesOf(prisma: AppPrismaClient, userId: string): Promise<string[]> {
  const rows = await prisma.mailDomainAccess.findMany({ where: { userId }, include: { maildomain: true } });
  return rows.map((row) => `${row.maildomain.name}:${row.role}:${row.source}`).sort();
}

export async function adminDomainsOf(prisma: AppPrismaClient, userId: string): Promise<string[]> {
  const rows = await prisma.mailDomainAccess.findMany({ where: { userId, role: 'ADMIN' }, include: { maildomain: true } });
  return rows.map((row) => row.maildomain.name).sort();
}

/** Every row of every table, to compare a database before and after. */
export async function snapshot(prisma: AppPrismaClient) {
  return {
    users: await prisma.user.findMany({ orderBy: { id: 'asc' } }),
    domains: await prisma.mailDomain.findMany({ orderBy: { id: 'asc' } }),
    accesses: await prisma.mailDomainAccess.findMany({ orderBy: { id: 'asc' } }),
    events: await prisma.accessEvent.findMany({ orderBy: { id: 'asc' } }),
  };
}
