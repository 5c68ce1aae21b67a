import { isDeepStrictEqual } from 'node:util';
import { Router } from 'express';
import type { z } from 'zod';
import type { Logger } from '../logging';
import { isUniqueViolation } from '../db/prisma-errors';
import { validDomainName } from '../sync/domain-names';
import { checkBearer } from './bearer';
import { ApiError, parse } from './errors';
import type { ApiPrismaClient, JsonObject } from './prisma-types';
import { ProvisioningRequest, type ProvisioningResponse } from './schemas';

export const INVALID_API_KEY = 'Invalid or missing API key';

export interface DomainRequestPlan {
  /** Normalised name → the input it came from (first occurrence), in input order. */
  names: Map<string, unknown>;
  errors: { domain: unknown; error: string }[];
}

/** The items of `domains`: a list as is, a comma-separated string split (empty items are dropped later). */
export function domainItems(domains: unknown[] | string): unknown[] {
  return typeof domains === 'string' ? domains.split(',') : domains;
}

/**
 * The domains of a provisioning request, each on its own: items trimmed, empty ones dropped,
 * duplicates collapsed after normalisation, invalid ones reported.
 */
export function planDomainRequest(items: unknown[]): DomainRequestPlan {
  const plan: DomainRequestPlan = { names: new Map(), errors: [] };
  for (const item of items) {
    if (typeof item !== 'string') {
      plan.errors.push({ domain: item, error: 'not a domain name (a string is expected)' });
      continue;
    }
    if (item.trim() === '') continue;
    const name = validDomainName(item);
    if (!name) {
      plan.errors.push({ domain: item, error: 'invalid domain name' });
      continue;
    }
    if (!plan.names.has(name)) plan.names.set(name, item);
  }
  return plan;
}

/** Names handled per round of statements: a large request never holds the event loop for long. */
const BATCH = 100;

/**
 * One batch: the existing domains get the request's attributes (one statement for all that differ), the
 * missing ones are created (one statement; one at a time when another request created some meanwhile).
 * Returns the names this request created.
 */
async function provisionBatch(prisma: ApiPrismaClient, names: string[], attributes: JsonObject | undefined): Promise<string[]> {
  const found = await prisma.mailDomain.findMany({ where: { name: { in: names } } });
  const changed = attributes ? found.filter((domain) => !isDeepStrictEqual(domain.customAttributes, attributes)).map((domain) => domain.id) : [];
  if (attributes && changed.length > 0) await prisma.mailDomain.updateMany({ where: { id: { in: changed } }, data: { customAttributes: attributes } });
  const existing = new Set(found.map((domain) => domain.name));
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) return [];
  try {
    await prisma.mailDomain.createMany({ data: missing.map((name) => ({ name, customAttributes: attributes ?? {} })) });
    return missing;
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
  }
  const created: string[] = [];
  for (const name of missing) {
    try {
      await prisma.mailDomain.createMany({ data: [{ name, customAttributes: attributes ?? {} }] });
      created.push(name);
    } catch (single) {
      if (!isUniqueViolation(single)) throw single;
    }
  }
  return created;
}

/** docs/specification.md §7.5: `POST provisioning/maildomains/`, for DeployCenter and other services (bearer key). */
export function provisioningRoutes({
  prisma,
  apiKey,
  maxDomains,
  logger,
}: {
  prisma: ApiPrismaClient;
  apiKey?: string;
  /** PROVISIONING_MAX_DOMAINS. */
  maxDomains: number;
  logger: Logger;
}): Router {
  const router = Router();
  router.post('/provisioning/maildomains/', async (req, res) => {
    if (!checkBearer(req, res, apiKey)) throw new ApiError(403, INVALID_API_KEY);
    const body = parse(ProvisioningRequest, req.body ?? {});
    const items = domainItems(body.domains);
    // Counted before any name is normalised or any row read: an oversized request costs nothing.
    if (items.length > maxDomains) throw new ApiError(400, `domains: at most ${maxDomains} in one request (PROVISIONING_MAX_DOMAINS), got ${items.length}`);
    const plan = planDomainRequest(items);
    if (plan.names.size === 0 && plan.errors.length === 0) throw new ApiError(400, 'domains: at least one domain is required');
    const attributes = body.custom_attributes as JsonObject | undefined;

    const names = [...plan.names.keys()];
    const created = new Set<string>();
    for (let i = 0; i < names.length; i += BATCH) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve)); // let other requests in between batches
      for (const name of await provisionBatch(prisma, names.slice(i, i + BATCH), attributes)) created.add(name);
    }
    const body200: z.infer<typeof ProvisioningResponse> = {
      created: names.filter((name) => created.has(name)),
      existing: names.filter((name) => !created.has(name)),
      errors: plan.errors,
    };
    logger.info({ created: body200.created.length, existing: body200.existing.length, errors: plan.errors.length }, 'mail domains provisioned');
    res.json(body200);
  });
  return router;
}
