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
