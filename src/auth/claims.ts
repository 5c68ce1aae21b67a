/** Claims of a login (ID token merged with userinfo), as the user rules read them. */
export interface LoginClaims {
  sub: string;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  /** The `name` claim: the full name some IdPs release instead of given and family names. */
  name: string | null;
  /** Every claim as received, for essential-claim checks and the entitlements backend. */
  all: Record<string, unknown>;
}

function text(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed.length > 0 && trimmed.length <= max ? trimmed : null;
}

/** Claims come from outside: anything not a usable string is treated as absent (a sub over 255 characters too). */
export function readClaims(all: Record<string, unknown>): LoginClaims {
  const sub = typeof all.sub === 'string' || typeof all.sub === 'number' ? String(all.sub).trim() : '';
  return {
    sub: sub.length <= 255 ? sub : '',
    email: text(all.email, 254),
    givenName: text(all.given_name, 150),
    familyName: text(all.family_name, 150),
    name: text(all.name, 300),
    all,
  };
}

/** `full_name`: given and family names, or the `name` claim when the IdP releases neither. */
export function fullName(claims: Pick<LoginClaims, 'givenName' | 'familyName' | 'name'>): string | null {
  return [claims.givenName, claims.familyName].filter(Boolean).join(' ') || claims.name;
}

/** An essential claim is missing when absent, null or an empty string. */
export function missingClaims(all: Record<string, unknown>, essential: string[]): string[] {
  return essential.filter((name) => {
    const value = all[name];
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  });
}
