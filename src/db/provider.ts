export type DatabaseProvider = 'sqlite' | 'postgresql';

export const DEFAULT_DATABASE_URL = 'file:./data/dev.db';

/** docs/specification.md §2: PostgreSQL for `postgres://` and `postgresql://` URLs, SQLite for everything else. */
export function providerOf(databaseUrl: string): DatabaseProvider {
  return /^postgres(ql)?:\/\//i.test(databaseUrl) ? 'postgresql' : 'sqlite';
}

/** The file path of a SQLite URL (`file:./data/dev.db`, `file:///abs/dev.db` or a bare path). */
export function sqliteFilePath(databaseUrl: string): string {
  if (databaseUrl.startsWith('file://')) return new URL(databaseUrl).pathname;
  return databaseUrl.replace(/^file:/, '');
}

/** Prisma's `_activeProvider` (not typed), for hosts that do not say which database they use. */
export function detectProvider(prisma: object): DatabaseProvider | undefined {
  const active = (prisma as { _activeProvider?: unknown })._activeProvider;
  if (active === 'sqlite') return 'sqlite';
  if (active === 'postgresql' || active === 'postgres') return 'postgresql';
  return undefined;
}

/** The provider a caller named, else the client's own; an error naming `who` when neither says. */
export function requireProvider(prisma: object, provider: DatabaseProvider | undefined, who: string): DatabaseProvider {
  const resolved = provider ?? detectProvider(prisma);
  if (!resolved) throw new Error(`${who}: pass \`provider\` ("sqlite" or "postgresql"): it cannot be read from this client`);
  return resolved;
}
