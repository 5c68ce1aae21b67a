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

export interface SyncPlan {
  grants: KnownDomain[];
  upgrades: { access: ExistingAccess; domain: KnownDomain }[];
  /** ADMIN rows to delete (their domain names are read only when there are some). */
  revocations: ExistingAccess[];
  /** Entitled names with no local MailDomain: counted and logged, never created. */
  unknownDomains: string[];
}

export interface PlanInput {
  /** Normalised entitled names. */
  entitled: string[];
  /** The local domains among the entitled names. */
  knownDomains: KnownDomain[];
  /** Every access row of the user. */
  accesses: ExistingAccess[];
  /** ENTITLEMENTS_SYNC_PRESERVE_MANUAL: revoke only the ADMIN rows the sync created. */
  preserveManual: boolean;
}

/** The pure diff of docs/specification.md §5.2: inputs in, planned changes out. */
export function planAdminSync({ entitled, knownDomains, accesses, preserveManual }: PlanInput): SyncPlan {
  const domainsByName = new Map(knownDomains.map((domain) => [domain.name, domain]));
  const accessByDomain = new Map(accesses.map((access) => [access.maildomainId, access]));
  const entitledIds = new Set<string>();
  const plan: SyncPlan = { grants: [], upgrades: [], revocations: [], unknownDomains: [] };

  for (const name of entitled) {
    const domain = domainsByName.get(name);
    if (!domain) {
      plan.unknownDomains.push(name);
      continue;
    }
    entitledIds.add(domain.id);
    const access = accessByDomain.get(domain.id);
    if (!access) plan.grants.push(domain);
    else if (access.role !== 'ADMIN') plan.upgrades.push({ access, domain });
  }
  for (const access of accesses) {
    if (access.role !== 'ADMIN' || entitledIds.has(access.maildomainId)) continue;
    if (preserveManual && access.source !== 'ENTITLEMENTS') continue;
    plan.revocations.push(access);
  }
  return plan;
}

export function isEmptyPlan(plan: SyncPlan): boolean {
  return plan.grants.length === 0 && plan.upgrades.length === 0 && plan.revocations.length === 0;
}
