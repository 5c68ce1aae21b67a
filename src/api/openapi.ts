import { z } from 'zod';
import * as schemas from './schemas';

/** A list route's answer: the plain array, or DRF's page when `page` or `page_size` is asked for (docs/api.md). */
function paginated(item: z.ZodType) {
  return z.union([z.array(item), z.object({ count: z.number().int(), next: z.string().nullable(), previous: z.string().nullable(), results: z.array(item) })]);
}

const PAGE_PARAMETERS = [
  {
    name: 'page',
    in: 'query',
    required: false,
    description: 'Page number, from 1: asks for a page instead of the whole array',
    schema: { type: 'integer', minimum: 1 },
  },
  { name: 'page_size', in: 'query', required: false, description: 'Items per page (default 100, at most 1,000)', schema: { type: 'integer', minimum: 1 } },
];

/** Request schemas are described as clients send them, responses as the server writes them. */
const REQUESTS = {
  ProvisioningRequest: schemas.ProvisioningRequest,
  MailDomainRequest: schemas.MailDomainRequest,
  AccessRequest: schemas.AccessRequest,
  ResyncRequest: schemas.ResyncRequest,
};
const RESPONSES = {
  Error: schemas.ErrorBody,
  UserMe: schemas.UserMe,
  Entitlements: schemas.EntitlementsBody,
  Config: schemas.ConfigBody,
  ProvisioningResponse: schemas.ProvisioningResponse,
  MailDomain: schemas.MailDomainBody,
  MailDomainList: paginated(schemas.MailDomainBody),
  MailDomainAccess: schemas.AccessBody,
  MailDomainAccessList: paginated(schemas.AccessBody),
  ResyncResponse: schemas.ResyncResponse,
};

type Component = keyof typeof REQUESTS | keyof typeof RESPONSES;

interface Operation {
  summary: string;
  auth: 'session' | 'bearer' | 'none';
  request?: keyof typeof REQUESTS;
  /** Takes `page` and `page_size`. */
  paginated?: boolean;
  responses: Record<number, { description: string; body?: Component }>;
}

const ERR = (description: string) => ({ description, body: 'Error' as const });
const SESSION_ERRORS = {
  401: ERR('Not logged in'),
  403: ERR('Access denied by entitlements policy, or not allowed'),
  503: ERR('Entitlements service unavailable'),
};

const PAGE_ERRORS = { 400: ERR('page or page_size is not a whole number from 1'), 404: ERR('A page past the last') };
const TOO_MANY = { 429: ERR('Too many failed API keys from this client (RATE_LIMIT_PER_MINUTE); see Retry-After') };

/** docs/specification.md §7, route by route: the single description the document and the tests read. */
export const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/users/me/': {
    get: {
      summary: 'The logged-in user and their abilities',
      auth: 'session',
      responses: { 200: { description: 'The user', body: 'UserMe' }, ...SESSION_ERRORS },
    },
  },
  '/entitlements/': {
    get: {
      summary: "Every can_* of the user's current entitlements",
      auth: 'session',
      responses: { 200: { description: 'The entitlements', body: 'Entitlements' }, 401: ERR('Not logged in'), 503: ERR('Entitlements service unavailable') },
    },
  },
  '/entitlements/resync/': {
    post: {
      summary: 'Re-sync these users now (by email or sub, at most 1,000)',
      auth: 'bearer',
      request: 'ResyncRequest',
      responses: {
        200: { description: 'One result per user (not_found for unknown ones)', body: 'ResyncResponse' },
        400: ERR('Malformed body, or nested deeper than 64 levels'),
        403: ERR('Invalid or missing API key (or none configured)'),
        413: ERR('Body over 1 MiB'),
        ...TOO_MANY,
      },
    },
  },
  '/config/': { get: { summary: 'Feature flags', auth: 'none', responses: { 200: { description: 'The flags', body: 'Config' } } } },
  '/provisioning/maildomains/': {
    post: {
      summary: 'Create mail domains (idempotent), each on its own',
      auth: 'bearer',
      request: 'ProvisioningRequest',
      responses: {
        200: { description: 'What was created, what existed, what was refused', body: 'ProvisioningResponse' },
        400: ERR('Malformed body, no domain, more than PROVISIONING_MAX_DOMAINS, or nested deeper than 64 levels'),
        403: ERR('Invalid or missing API key (or none configured)'),
        413: ERR('Body over 1 MiB'),
        ...TOO_MANY,
      },
    },
  },
  '/maildomains/': {
    get: {
      summary: 'The mail domains the user administers (all for superusers)',
      auth: 'session',
      paginated: true,
      responses: { 200: { description: 'The domains', body: 'MailDomainList' }, ...PAGE_ERRORS, ...SESSION_ERRORS },
    },
    post: {
      summary: 'Create a mail domain (superusers; FEATURE_MAILDOMAIN_CREATE)',
      auth: 'session',
      request: 'MailDomainRequest',
      responses: { 201: { description: 'The new domain', body: 'MailDomain' }, 400: ERR('Invalid or existing name'), ...SESSION_ERRORS },
    },
  },
  '/maildomains/{id}/accesses/': {
    get: {
      summary: "The domain's accesses (its admins and superusers)",
      auth: 'session',
      paginated: true,
      responses: {
        200: { description: 'The accesses', body: 'MailDomainAccessList' },
        ...PAGE_ERRORS,
        404: ERR('No such domain, or a page past the last'),
        ...SESSION_ERRORS,
      },
    },
    post: {
      summary: 'Grant an access (source MANUAL, audited; FEATURE_MAILDOMAIN_MANAGE_ACCESSES)',
      auth: 'session',
      request: 'AccessRequest',
      responses: {
        201: { description: 'The new access', body: 'MailDomainAccess' },
        400: ERR('Invalid body, unknown user or existing access'),
        404: ERR('No such domain'),
        ...SESSION_ERRORS,
      },
    },
  },
  '/maildomains/{id}/accesses/{accessId}/': {
    delete: {
      summary: 'Remove an access (audited; FEATURE_MAILDOMAIN_MANAGE_ACCESSES)',
      auth: 'session',
      responses: { 204: { description: 'Removed' }, 404: ERR('No such domain or access'), ...SESSION_ERRORS },
    },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const ref = (name: Component) => ({ $ref: `#/components/schemas/${name}` });

/** The OpenAPI 3.1 document of the REST surface, built from the same zod schemas the routes use. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(operations)) {
      const parameters: object[] = [...path.matchAll(/\{(\w+)\}/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (operation.paginated) parameters.push(...PAGE_PARAMETERS);
      paths[path][method] = {
        summary: operation.summary,
        ...(parameters.length > 0 && { parameters }),
        ...(operation.auth === 'bearer' && { security: [{ bearer: [] }] }),
        ...(operation.auth === 'session' && { security: [{ session: [] }] }),
        ...(operation.request && { requestBody: { required: true, content: { 'application/json': { schema: ref(operation.request) } } } }),
        responses: Object.fromEntries(
          Object.entries(operation.responses).map(([status, response]) => [
            status,
            { description: response.description, ...(response.body && { content: { 'application/json': { schema: ref(response.body) } } }) },
          ]),
        ),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'oidc-entitlements', version: '1.0', description: 'The /api/v1.0/ routes of docs/specification.md §7.' },
    servers: [{ url: '/api/v1.0' }],
    paths,
    components: {
      schemas: {
        ...Object.fromEntries(Object.entries(REQUESTS).map(([name, schema]) => [name, jsonSchema(schema, 'input')])),
        ...Object.fromEntries(Object.entries(RESPONSES).map(([name, schema]) => [name, jsonSchema(schema, 'output')])),
      },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'sessionid' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
  };
}
