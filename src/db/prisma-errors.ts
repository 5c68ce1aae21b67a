/** Prisma's unique-constraint violation (P2002): another request created the row first. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'P2002';
}
