import { validDomainName } from './domain-names';

export type MailDomainRole = 'ADMIN' | 'VIEWER';
export type AccessSource = 'ENTITLEMENTS' | 'MANUAL';

export interface KnownDomain {
  id: string;
  name: string;
}

export interface ExistingAccess {
  id: string;
  maildomainId: string;
  role: MailDomainRole;
  source: AccessSource;
}

/** What `can_admin_maildomains` says (docs/specification.md §5.1). */
export type EntitledDomains = { kind: 'list'; names: string[]; unusableNames: string[] } | { kind: 'unmanaged' } | { kind: 'invalid'; problem: string };

/** Reads `can_admin_maildomains`: a list of strings (normalised, deduplicated), null/absent, or invalid. */
export function readEntitledDomains(value: unknown): EntitledDomains {
  if (value === null || value === undefined) return { kind: 'unmanaged' };
  if (!Array.isArray(value)) return { kind: 'invalid', problem: `can_admin_maildomains is a ${typeof value}, not a list` };
  const names = new Set<string>();
  const unusableNames: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') return { kind: 'invalid', problem: `can_admin_maildomains holds a ${item === null ? 'null' : typeof item}` };
    const name = validDomainName(item);
    if (name) names.add(name);
    else unusableNames.push(item);
  }
  // A list of nothing but unusable names is a broken answer, never "entitled to nothing" (`[]`).
  if (names.size === 0 && unusableNames.length > 0)
    return { kind: 'invalid', problem: `can_admin_maildomains holds no valid domain name (${unusableNames.length} unusable)` };
  return { kind: 'list', names: [...names], unusableNames };
}

/**
 * What the sync reads in one statement (sync-sql.ts): only what may need a change. When the user's rows
 * are in sync, both lists are empty and `unknownNames` holds the entitled names with no local domain.
 */
export interface SyncCandidates {
  /** Entitled local domains where the user has no ADMIN row; `access`: its row there, of another role. */
  notAdmin: { domain: KnownDomain; access: ExistingAccess | null }[];
  /** The user's ADMIN rows on local domains it is not entitled to. */
  notEntitled: { domain: KnownDomain; access: ExistingAccess }[];
  /** Entitled names with no local mail domain. */
  unknownNames: string[];
}

export interface SyncPlan {
  grants: KnownDomain[];
  upgrades: { access: ExistingAccess; domain: KnownDomain }[];
  /** ADMIN rows to delete. */
  revocations: { access: ExistingAccess; domain: KnownDomain }[];
  /** Entitled names with no local MailDomain, and names that are no domain name: counted and logged, never created. */
  unknownDomains: string[];
}

/**
 * The pure diff of docs/specification.md §5.2: grant where there is no row, upgrade rows of another role,
 * revoke ADMIN rows no longer entitled (only those the sync created with `preserveManual`); rows of other
 * roles are never revoked, ADMIN rows of entitled domains never touched whatever their source.
 */
export function planAdminSync(
  { notAdmin, notEntitled, unknownNames }: SyncCandidates,
  { preserveManual, unusableNames = [] }: { preserveManual: boolean; unusableNames?: string[] },
): SyncPlan {
  const plan: SyncPlan = { grants: [], upgrades: [], revocations: [], unknownDomains: [...unknownNames, ...unusableNames] };
  for (const { domain, access } of notAdmin) {
    if (!access) plan.grants.push(domain);
    else if (access.role !== 'ADMIN') plan.upgrades.push({ access, domain });
  }
  for (const candidate of notEntitled) {
    if (candidate.access.role !== 'ADMIN') continue;
    if (preserveManual && candidate.access.source !== 'ENTITLEMENTS') continue;
    plan.revocations.push(candidate);
  }
  return plan;
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.grants.length === 0 && plan.upgrades.length === 0 && plan.revocations.length === 0;
}
