/**
 * Takes the lock on a user's row until the transaction ends, and says whether the user exists. Every
 * writer of a user's accesses updates that row first — the access API here, the sync here on SQLite and
 * in its one statement on PostgreSQL (which also checks the row's version) — so they run one after the
 * other for one user: the end state is that of some serial order, and every audit row matches a row
 * that really changed.
 */
export async function lockUserRow(tx: { $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number> }, userId: string): Promise<boolean> {
  return (await tx.$executeRaw`UPDATE users SET updated_at = updated_at WHERE id = ${userId}`) > 0;
}

/** SQLite: {@link lockUserRow} for many users at once (the write lock), answering the ids of those that exist. */
export async function lockUserRowsSqlite(
  tx: { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> },
  userIds: string[],
): Promise<Set<string>> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
    `UPDATE users SET updated_at = updated_at WHERE id IN (SELECT value FROM json_each(?)) RETURNING id`,
    JSON.stringify(userIds),
  );
  return new Set(rows.map((row) => row.id));
}
