import type { OidcConfig } from '../config';
import type { DatabaseProvider } from '../db/provider';
import { isUniqueViolation } from '../db/prisma-errors';
import type { LoginClaims } from './claims';
import { fullName, missingClaims } from './claims';
import { LoginRefusedError } from './errors';
import type { UserPrismaClient, UserRecord, UserUpdate } from './prisma-types';

export type UserRules = Pick<OidcConfig, 'essentialClaims' | 'fallbackToEmailForIdentification' | 'allowDuplicateEmails' | 'createUser'>;

/**
 * An email as login compares it (docs/specification.md §6): trimmed, Unicode NFC, and case-folded (upper
 * then lower case, so `ß`/`SS` and `ς`/`Σ` match as Unicode case folding has them); '' for none. Computed
 * here rather than in SQL, whose lower() is ASCII-only on SQLite: both databases compare the same strings.
 */
export function normalizeEmail(email: string | null | undefined): string {
  return (email ?? '').trim().normalize('NFC').toUpperCase().toLowerCase();
}

const DERIVE_BATCH = 1000;

/** The users login and resync look up, through the indexed `email_normalized` column. */
export class UserDirectory {
  constructor(
    readonly prisma: UserPrismaClient,
    private readonly provider: DatabaseProvider,
  ) {}

  bySub(sub: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { sub } });
  }

  /** Users whose email equals this one once both are normalised, at most `limit`. */
  async withEmail(email: string, limit = 1000): Promise<UserRecord[]> {
    const normalized = normalizeEmail(email);
    if (!normalized) return [];
    await this.deriveNormalizedEmails();
    return this.prisma.user.findMany({ where: { emailNormalized: normalized }, take: limit });
  }

  /** The users a resync names: by sub (at most one) or by email (every match). */
  async by(key: 'email' | 'sub', value: string): Promise<UserRecord[]> {
    if (key === 'email') return this.withEmail(value);
    const user = await this.bySub(value);
    return user ? [user] : [];
  }

  /**
   * Fills in `email_normalized` where it is NULL: rows from before the column existed and rows a host
   * wrote itself. One indexed probe when there is nothing to do (the usual case), batches otherwise.
   * Returns how many rows it filled in.
   */
  async deriveNormalizedEmails(): Promise<number> {
    let derived = 0;
    for (;;) {
      const rows = await this.prisma.$queryRaw<
        { id: string; email: string | null }[]
      >`SELECT id, email FROM users WHERE email_normalized IS NULL LIMIT ${DERIVE_BATCH}`;
      if (rows.length === 0) return derived;
      const updated = await this.writeNormalized(rows);
      derived += updated;
      // Nothing written: other writers are changing these rows right now; the next lookup tries again.
      if (rows.length < DERIVE_BATCH || updated === 0) return derived;
    }
  }

  /** One statement per batch; a row whose email changed since it was read is left for the next pass. */
  private writeNormalized(rows: { id: string; email: string | null }[]): Promise<number> {
    const values = JSON.stringify(rows.map((row) => ({ id: row.id, email: row.email, normalized: normalizeEmail(row.email) })));
    if (this.provider === 'postgresql') {
      return this.prisma.$executeRawUnsafe(
        `UPDATE users SET email_normalized = r.normalized
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, email text, normalized text)
         WHERE users.id = r.id AND users.email_normalized IS NULL AND users.email IS NOT DISTINCT FROM r.email`,
        values,
      );
    }
    // Materialised first, so that SQLite loops over the batch and finds each user by its key; as a plain
    // subquery the planner scanned the batch for every NULL row of the index (55 s per batch at 200k users).
    return this.prisma.$executeRawUnsafe(
      `WITH r AS MATERIALIZED (
         SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.email') AS email, json_extract(value, '$.normalized') AS normalized
         FROM json_each(?))
       UPDATE users SET email_normalized = r.normalized FROM r
       WHERE users.id = r.id AND users.email_normalized IS NULL AND users.email IS r.email`,
      values,
    );
  }

  /** Writes what {@link resolveUser} decided: the update of a known user, or the new user. */
  async save(resolved: ResolvedUser): Promise<UserRecord> {
    if (resolved.kind === 'existing') return this.prisma.user.update({ where: { id: resolved.user.id }, data: resolved.changes });
    try {
      return await this.prisma.user.create({ data: resolved.data });
    } catch (error) {
      // Two first logins of one person at once (two tabs): the other one created the row.
      if (!isUniqueViolation(error)) throw error;
      const created = await this.bySub(resolved.data.sub);
      if (!created) throw error;
      return created;
    }
  }
}

/** The changes a login brings to a known user: non-empty claims that differ; never its sub once set. */
function changes(user: UserRecord, claims: LoginClaims): UserUpdate {
  const update: UserUpdate = { lastLoginAt: new Date() };
  if (!user.sub) update.sub = claims.sub;
  if (claims.email && claims.email !== user.email) {
    update.email = claims.email;
    update.emailNormalized = normalizeEmail(claims.email);
  }
  const name = fullName(claims);
  if (name && name !== user.fullName) update.fullName = name;
  if (claims.givenName && claims.givenName !== user.shortName) update.shortName = claims.givenName;
  return update;
}

async function findExisting(users: UserDirectory, claims: LoginClaims, rules: UserRules): Promise<UserRecord | null> {
  const bySub = await users.bySub(claims.sub);
  if (bySub || !claims.email) return bySub;
  if (rules.fallbackToEmailForIdentification) {
    const matches = await users.withEmail(claims.email, 2);
    if (matches.length > 1) throw new LoginRefusedError('ambiguous_email', 'Multiple user accounts share this email address');
    return matches[0] ?? null;
  }
  if (!rules.allowDuplicateEmails && (await users.withEmail(claims.email, 1)).length > 0) {
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
export async function resolveUser(users: UserDirectory, claims: LoginClaims, rules: UserRules): Promise<ResolvedUser> {
  if (!claims.sub) throw new LoginRefusedError('missing_sub', 'The identity provider gave no user identifier (sub)');
  const missing = missingClaims(claims.all, rules.essentialClaims);
  if (missing.length > 0) {
    throw new LoginRefusedError('missing_essential_claims', `Missing essential claims: ${missing.join(', ')}`);
  }
  const existing = await findExisting(users, claims, rules);
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
      emailNormalized: normalizeEmail(claims.email),
      fullName: fullName(claims) ?? undefined,
      shortName: claims.givenName ?? undefined,
      lastLoginAt: new Date(),
    },
  };
}
