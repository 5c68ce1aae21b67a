import { z } from 'zod';

/** Claims of a login (ID token merged with userinfo), as the user rules read them. */
export interface LoginClaims {
  sub: string;
  email: string | null;
  givenName: string | null;
  familyName: string | null;
  /** Every claim as received, for essential-claim checks and the entitlements backend. */
  all: Record<string, unknown>;
}

const text = (max: number) =>
  z
    .unknown()
    .transform((value) => (typeof value === 'string' ? value.trim() : ''))
    .transform((value) => (value.length > 0 && value.length <= max ? value : null));

const claimsSchema = z.object({
  sub: z.unknown().transform((value) => (typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '')),
  email: text(254),
  given_name: text(150),
  family_name: text(150),
});

/** Claims come from outside: anything not a usable string is treated as absent. */
export function readClaims(all: Record<string, unknown>): LoginClaims {
  const parsed = claimsSchema.parse(all);
  return { sub: parsed.sub.length <= 255 ? parsed.sub : '', email: parsed.email, givenName: parsed.given_name, familyName: parsed.family_name, all };
}

/** An essential claim is missing when absent, null or an empty string. */
export function missingClaims(all: Record<string, unknown>, essential: string[]): string[] {
  return essential.filter((name) => {
    const value = all[name];
    return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  });
}
