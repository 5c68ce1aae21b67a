/**
 * Takes the lock on a user's row until the transaction ends, and says whether the user exists. Every
 * transaction that changes a user's accesses — the sync, the access API — takes it first, so they run
 * one after the other for one user on PostgreSQL (a row lock) as on SQLite (its single writer): the end
 * state is that of some serial order, and every audit row matches a row that really changed.
 */
export async function lockUserRow(tx: { $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number> }, userId: string): Promise<boolean> {
  return (await tx.$executeRaw`UPDATE users SET updated_at = updated_at WHERE id = ${userId}`) > 0;
}
