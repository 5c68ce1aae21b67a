import type { OidcConfig } from '../config';
import { isUniqueViolation } from '../db/prisma-errors';
import type { LoginClaims } from './claims';
import { fullName, missingClaims } from './claims';
import { LoginRefusedError } from './errors';
import type { UserPrismaClient, UserRecord, UserUpdate } from './prisma-types';

export type UserRules = Pick<OidcConfig, 'essentialClaims' | 'fallbackToEmailForIdentification' | 'allowDuplicateEmails' | 'createUser'>;

/** Users whose email equals this one, compared trimmed and case-insensitively (docs/specification.md §6), at most `limit`. */
export async function usersWithEmail(prisma: UserPrismaClient, email: string, limit = 1000): Promise<UserRecord[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`SELECT id FROM users WHERE lower(trim(email)) = ${email.trim().toLowerCase()} LIMIT ${limit}`;
  return rows.length === 0 ? [] : prisma.user.findMany({ where: { id: { in: rows.map((row) => row.id) } } });
}

/** The users a resync names: by sub (at most one) or by email (every match). */
export async function usersBy(prisma: UserPrismaClient, key: 'email' | 'sub', value: string): Promise<UserRecord[]> {
  if (key === 'email') return usersWithEmail(prisma, value);
  const user = await prisma.user.findUnique({ where: { sub: value } });
  return user ? [user] : [];
}

/** The changes a login brings to a known user: non-empty claims that differ; never its sub once set. */
function changes(user: UserRecord, claims: LoginClaims): UserUpdate {
  const update: UserUpdate = { lastLoginAt: new Date() };
  if (!user.sub) update.sub = claims.sub;
  if (claims.email && claims.email !== user.email) update.email = claims.email;
  const name = fullName(claims);
  if (name && name !== user.fullName) update.fullName = name;
  if (claims.givenName && claims.givenName !== user.shortName) update.shortName = claims.givenName;
  return update;
}

async function findExisting(prisma: UserPrismaClient, claims: LoginClaims, rules: UserRules): Promise<UserRecord | null> {
  const bySub = await prisma.user.findUnique({ where: { sub: claims.sub } });
  if (bySub || !claims.email) return bySub;
  if (rules.fallbackToEmailForIdentification) {
    const matches = await usersWithEmail(prisma, claims.email, 2);
    if (matches.length > 1) throw new LoginRefusedError('ambiguous_email', 'Multiple user accounts share this email address');
    return matches[0] ?? null;
  }
  if (!rules.allowDuplicateEmails && (await usersWithEmail(prisma, claims.email, 1)).length > 0) {
    throw new LoginRefusedError('email_already_associated', 'This email address is already associated with another account');
  }
  return null;
}

/** Who a login is, once every rule passed: a known user and its changes, or a user to create. */
export type ResolvedUser = { kind: 'existing'; user: UserRecord; changes: UserUpdate } | { kind: 'new'; data: UserUpdate & { sub: string } };

/**
 * The user rules of the La Suite apps (django-lasuite, docs/specification.md §6), without writing anything: the user a
 * login belongs to, or a {@link LoginRefusedError}.
 */
export async function resolveUser(prisma: UserPrismaClient, claims: LoginClaims, rules: UserRules): Promise<ResolvedUser> {
  if (!claims.sub) throw new LoginRefusedError('missing_sub', 'The identity provider gave no user identifier (sub)');
  const missing = missingClaims(claims.all, rules.essentialClaims);
  if (missing.length > 0) {
    throw new LoginRefusedError('missing_essential_claims', `Missing essential claims: ${missing.join(', ')}`);
  }
  const existing = await findExisting(prisma, claims, rules);
  if (existing) {
    if (!existing.isActive) throw new LoginRefusedError('user_disabled', 'User account is disabled');
    return { kind: 'existing', user: existing, changes: changes(existing, claims) };
  }
  if (!rules.createUser) throw new LoginRefusedError('user_unknown', 'No account exists for this user');
  return {
    kind: 'new',
    data: {
      sub: claims.sub,
      email: claims.email ?? undefined,
      fullName: fullName(claims) ?? undefined,
      shortName: claims.givenName ?? undefined,
      lastLoginAt: new Date(),
    },
  };
}

/** Writes what {@link resolveUser} decided: the update of a known user, or the new user. */
export async function saveUser(prisma: UserPrismaClient, resolved: ResolvedUser): Promise<UserRecord> {
  if (resolved.kind === 'existing') return prisma.user.update({ where: { id: resolved.user.id }, data: resolved.changes });
  try {
    return await prisma.user.create({ data: resolved.data });
  } catch (error) {
    // Two first logins of one person at once (two tabs): the other one created the row.
    if (!isUniqueViolation(error)) throw error;
    const created = await prisma.user.findUnique({ where: { sub: resolved.data.sub } });
    if (!created) throw error;
    return created;
  }
}
