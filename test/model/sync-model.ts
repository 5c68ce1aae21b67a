/*
 * A tiny model of docs/specification.md §4 (the in-process cache on a failed refresh) and §5 (the
 * admin-role sync) and of the access API of §7.6: the oracle the model-based test compares the real
 * sync with. It shares no code with src/: names carry the normalised form the specification gives them,
 * written out by hand below.
 */

export const KNOWN_DOMAINS = ['a.fr', 'b.fr', 'xn--lve-6lad.fr'] as const;

/** An entitled name as the service sends it, and what §5.2 makes of it (`null`: not a valid name). */
export interface NameItem {
  input: string;
  normalized: string | null;
}

export const NAME_ITEMS: NameItem[] = [
  ...['a.fr', 'A.FR', ' a.fr ', 'a.fr.', 'a.fr。'].map((input) => ({ input, normalized: 'a.fr' })),
  ...['b.fr', 'B.fr.', 'b．fr'].map((input) => ({ input, normalized: 'b.fr' })),
  ...['élève.fr', 'ÉLÈVE.FR', 'xn--lve-6lad.fr', 'élève.fr。'].map((input) => ({ input, normalized: 'xn--lve-6lad.fr' })),
  ...['zz.fr', 'ZZ.FR.'].map((input) => ({ input, normalized: 'zz.fr' })),
  { input: 'ünknown.fr', normalized: 'xn--nknown-2ya.fr' },
  ...['', ' ', 'a..fr', '-a.fr', 'a_b.fr', `${'x'.repeat(64)}.fr`].map((input) => ({ input, normalized: null })),
];

/** An entitlements answer of §5.1, or the service being down. */
export type AnswerSpec =
  { kind: 'list'; items: NameItem[] } | { kind: 'null' } | { kind: 'absent' } | { kind: 'not_a_list' } | { kind: 'non_string' } | { kind: 'outage' };

export type Answer = Exclude<AnswerSpec, { kind: 'outage' }>;

/** The answer as a backend returns it. */
export function entitlementsOf(answer: Answer): { can_access: boolean; can_admin_maildomains: unknown } {
  switch (answer.kind) {
    case 'list':
      return { can_access: true, can_admin_maildomains: answer.items.map((item) => item.input) };
    case 'null':
      return { can_access: true, can_admin_maildomains: null };
    case 'absent':
      return { can_access: true } as { can_access: boolean; can_admin_maildomains: unknown };
    case 'not_a_list':
      return { can_access: true, can_admin_maildomains: 'a.fr' };
    case 'non_string':
      return { can_access: true, can_admin_maildomains: ['a.fr', 42] };
  }
}

export function describeAnswer(spec: AnswerSpec): string {
  return spec.kind === 'list' ? JSON.stringify(spec.items.map((item) => item.input)) : spec.kind;
}

export type Role = 'ADMIN' | 'VIEWER';
export type Source = 'ENTITLEMENTS' | 'MANUAL';
export interface SyncSettings {
  preserveManual: boolean;
  maxRevocations: number;
  dryRun: boolean;
}

export interface ModelResult {
  outcome: string;
  granted: number;
  upgraded: number;
  revoked: number;
  unknownDomains: number;
}

export interface Model {
  /** `"<user> <domain>"` → the row. */
  rows: Map<string, { role: Role; source: Source }>;
  /** Audit rows, `"<action> <user> <domain> <role> <source> <actor>"`, in no particular order. */
  events: string[];
  /** The in-process cache (ENTITLEMENTS_CACHE_MAX_KEYS = `cacheSize`): least recently used first. */
  cache: { user: number; answer: Answer }[];
  cacheSize: number;
}

export function emptyModel(cacheSize: number): Model {
  return { rows: new Map(), events: [], cache: [], cacheSize };
}

export function cloneModel(model: Model): Model {
  return {
    rows: new Map([...model.rows].map(([key, row]) => [key, { ...row }])),
    events: [...model.events],
    cache: [...model.cache],
    cacheSize: model.cacheSize,
  };
}

const rowKey = (user: number, domain: string) => `${user} ${domain}`;

/**
 * A login's forced refresh (§4): the cache entry is read (and so becomes the most recently used), a good
 * answer replaces it (the least recently used one makes room), a failure serves it stale when there is one.
 */
export function refresh(model: Model, user: number, spec: AnswerSpec): Answer | 'unavailable' {
  const index = model.cache.findIndex((entry) => entry.user === user);
  const cached = index >= 0 ? model.cache.splice(index, 1)[0] : undefined;
  if (spec.kind === 'outage') {
    if (!cached) return 'unavailable';
    model.cache.push(cached);
    return cached.answer;
  }
  model.cache.push({ user, answer: spec });
  if (model.cache.length > model.cacheSize) model.cache.shift();
  return spec;
}

/** The sync of §5.1 and §5.2 on the model, with what it reports. */
export function sync(model: Model, user: number, answer: Answer | 'unavailable', settings: SyncSettings): ModelResult {
  const nothing = (outcome: string, unknownDomains = 0): ModelResult => ({ outcome, granted: 0, upgraded: 0, revoked: 0, unknownDomains });
  if (answer === 'unavailable') return nothing('unavailable');
  if (answer.kind === 'null' || answer.kind === 'absent') return nothing('skipped');
  if (answer.kind !== 'list') return nothing('invalid');
  const valid = new Set(answer.items.flatMap((item) => (item.normalized === null ? [] : [item.normalized])));
  const unusable = answer.items.filter((item) => item.normalized === null).length;
  if (answer.items.length > 0 && valid.size === 0) return nothing('invalid');
  const entitled = [...valid].filter((name) => (KNOWN_DOMAINS as readonly string[]).includes(name));
  const unknownDomains = valid.size - entitled.length + unusable;

  const grants = entitled.filter((domain) => !model.rows.has(rowKey(user, domain)));
  const upgrades = entitled.filter((domain) => model.rows.get(rowKey(user, domain))?.role === 'VIEWER');
  const revocations = KNOWN_DOMAINS.filter((domain) => {
    const row = model.rows.get(rowKey(user, domain));
    return row?.role === 'ADMIN' && !entitled.includes(domain) && !(settings.preserveManual && row.source === 'MANUAL');
  });
  const result = (outcome: string): ModelResult => ({
    outcome,
    granted: grants.length,
    upgraded: upgrades.length,
    revoked: revocations.length,
    unknownDomains,
  });
  if (grants.length + upgrades.length + revocations.length === 0) return result('in_sync');
  if (settings.maxRevocations > 0 && revocations.length > settings.maxRevocations) return result('capped');
  if (settings.dryRun) return result('dry_run');

  for (const domain of revocations) {
    const row = model.rows.get(rowKey(user, domain))!;
    model.rows.delete(rowKey(user, domain));
    model.events.push(`REVOKED ${user} ${domain} ADMIN ${row.source} sync`);
  }
  for (const domain of upgrades) {
    model.rows.set(rowKey(user, domain), { role: 'ADMIN', source: 'ENTITLEMENTS' });
    model.events.push(`UPGRADED ${user} ${domain} ADMIN ENTITLEMENTS sync`);
  }
  for (const domain of grants) {
    model.rows.set(rowKey(user, domain), { role: 'ADMIN', source: 'ENTITLEMENTS' });
    model.events.push(`GRANTED ${user} ${domain} ADMIN ENTITLEMENTS sync`);
  }
  return result('applied');
}

/** `POST maildomains/{id}/accesses/` by a superuser: 201, or 400 when the user has a row there. */
export function apiGrant(model: Model, user: number, domain: string, role: Role): number {
  if (model.rows.has(rowKey(user, domain))) return 400;
  model.rows.set(rowKey(user, domain), { role, source: 'MANUAL' });
  model.events.push(`GRANTED ${user} ${domain} ${role} MANUAL api`);
  return 201;
}

/** `DELETE maildomains/{id}/accesses/{accessId}/`: 204, or 404 when the row is gone. */
export function apiRevoke(model: Model, user: number, domain: string): number {
  const row = model.rows.get(rowKey(user, domain));
  if (!row) return 404;
  model.rows.delete(rowKey(user, domain));
  model.events.push(`REVOKED ${user} ${domain} ${row.role} ${row.source} api`);
  return 204;
}

/** The rows as `"<user> <domain> <role> <source>"`, sorted: what the database is compared on. */
export function rowsOf(model: Model): string[] {
  return [...model.rows].map(([key, row]) => `${key} ${row.role} ${row.source}`).sort();
}
