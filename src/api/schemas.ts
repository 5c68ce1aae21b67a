import { z } from 'zod';

/*
 * The request and response shapes of docs/specification.md §7: requests are validated with them, and the OpenAPI
 * document (openapi.ts) is generated from them, so the two cannot disagree.
 */

export const ErrorBody = z.object({ detail: z.string() });

export const UserMe = z.object({
  id: z.string(),
  sub: z.string().nullable(),
  email: z.string().nullable(),
  full_name: z.string().nullable(),
  short_name: z.string().nullable(),
  is_superuser: z.boolean(),
  abilities: z.object({ view_maildomains: z.boolean(), create_maildomains: z.boolean(), manage_accesses: z.boolean() }),
  can_create: z.boolean(),
});

export const EntitlementEntry = z.object({ result: z.boolean(), message: z.string().optional(), domains: z.array(z.string()).optional() });

export const EntitlementsBody = z.record(z.string(), EntitlementEntry);

export const ConfigBody = z.object({ FEATURE_MAILDOMAIN_CREATE: z.boolean(), FEATURE_MAILDOMAIN_MANAGE_ACCESSES: z.boolean() });

export const ProvisioningRequest = z.object({
  domains: z.union([z.array(z.unknown()), z.string()], { error: 'domains must be a list or a comma-separated string' }),
  custom_attributes: z.record(z.string(), z.unknown(), { error: 'custom_attributes must be a JSON object' }).optional(),
});

export const ProvisioningResponse = z.object({
  created: z.array(z.string()),
  existing: z.array(z.string()),
  errors: z.array(z.object({ domain: z.unknown(), error: z.string() })),
});

export const MailDomainRequest = z.object({ name: z.string({ error: 'name must be a string' }) });

export const MailDomainBody = z.object({
  id: z.string(),
  name: z.string(),
  custom_attributes: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const Role = z.enum(['ADMIN', 'VIEWER']);

export const AccessRequest = z.object({
  user: z.string({ error: 'user must be the id of a user' }),
  role: z
    .string({ error: 'role must be ADMIN or VIEWER' })
    .transform((role) => role.toUpperCase())
    .pipe(z.enum(['ADMIN', 'VIEWER'], { error: 'role must be ADMIN or VIEWER' })),
});

export const AccessBody = z.object({
  id: z.string(),
  user: z.object({ id: z.string(), email: z.string().nullable(), full_name: z.string().nullable() }),
  role: Role,
  source: z.enum(['ENTITLEMENTS', 'MANUAL']),
  created_at: z.string(),
});

/** The first problem of a failed validation, as one `detail` line. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'Invalid request';
  const path = issue.path.join('.');
  return issue.message.includes(path) || !path ? issue.message : `${path}: ${issue.message}`;
}

const userKeys = (name: string) =>
  z
    .array(z.string({ error: `${name} must be a list of strings` }), { error: `${name} must be a list of strings` })
    .min(1, { error: `${name}: at least one is required` })
    .max(1000, { error: `${name}: at most 1000 at a time` });

export const ResyncRequest = z.union([z.strictObject({ emails: userKeys('emails') }), z.strictObject({ subs: userKeys('subs') })], {
  error: 'the body must be {"emails": [...]} or {"subs": [...]}',
});

export const ResyncResponse = z.object({
  results: z.array(
    z.object({
      email: z.string().optional(),
      sub: z.string().optional(),
      user_id: z.string().nullable(),
      outcome: z.enum(['applied', 'in_sync', 'skipped', 'invalid', 'unavailable', 'capped', 'dry_run', 'failed', 'not_found']),
      granted: z.number().int(),
      upgraded: z.number().int(),
      revoked: z.number().int(),
    }),
  ),
});
