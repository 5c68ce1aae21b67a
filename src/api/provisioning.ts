import { isDeepStrictEqual } from 'node:util';
import { Router } from 'express';
import type { z } from 'zod';
import type { Logger } from '../logging';
import { isUniqueViolation } from '../db/prisma-errors';
import { validDomainName } from '../sync/domain-names';
import { bearerMatches } from './bearer';
import { ApiError, parse } from './errors';
import type { ApiPrismaClient, JsonObject } from './prisma-types';
import { ProvisioningRequest, type ProvisioningResponse } from './schemas';

export const INVALID_API_KEY = 'Invalid or missing API key';

export interface DomainRequestPlan {
  /** Normalised name → the input it came from (first occurrence), in input order. */
  names: Map<string, unknown>;
  errors: { domain: unknown; error: string }[];
}

/**
 * The domains of a provisioning request, each on its own: a list or a comma-separated string, items
 * trimmed, empty ones dropped, duplicates collapsed after normalisation, invalid ones reported.
 */
export function planDomainRequest(domains: unknown[] | string): DomainRequestPlan {
  const items: unknown[] = typeof domains === 'string' ? domains.split(',') : domains;
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

/** docs/specification.md §7.5: `POST provisioning/maildomains/`, for DeployCenter and other services (bearer key). */
export function provisioningRoutes({ prisma, apiKey, logger }: { prisma: ApiPrismaClient; apiKey?: string; logger: Logger }): Router {
  const router = Router();
  router.post('/provisioning/maildomains/', async (req, res) => {
    if (!bearerMatches(req, apiKey)) throw new ApiError(403, INVALID_API_KEY);
    const body = parse(ProvisioningRequest, req.body ?? {});
    const plan = planDomainRequest(body.domains);
    if (plan.names.size === 0 && plan.errors.length === 0) throw new ApiError(400, 'domains: at least one domain is required');
    const attributes = body.custom_attributes as JsonObject | undefined;

    const names = [...plan.names.keys()];
    const found = names.length > 0 ? await prisma.mailDomain.findMany({ where: { name: { in: names } } }) : [];
    const existing = new Map(found.map((domain) => [domain.name, domain]));
    for (const domain of found) {
      if (attributes && !isDeepStrictEqual(domain.customAttributes, attributes)) {
        await prisma.mailDomain.update({ where: { id: domain.id }, data: { customAttributes: attributes } });
      }
    }
    const missing = names.filter((name) => !existing.has(name));
    const created: string[] = [];
    const raced: string[] = [];
    if (missing.length > 0) {
      try {
        await prisma.mailDomain.createMany({ data: missing.map((name) => ({ name, customAttributes: attributes ?? {} })) });
        created.push(...missing);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another request created some of them meanwhile: one at a time, each on its own.
        for (const name of missing) {
          try {
            await prisma.mailDomain.createMany({ data: [{ name, customAttributes: attributes ?? {} }] });
            created.push(name);
          } catch (single) {
            if (!isUniqueViolation(single)) throw single;
            raced.push(name);
          }
        }
      }
    }
    const body200: z.infer<typeof ProvisioningResponse> = {
      created,
      existing: names.filter((name) => existing.has(name) || raced.includes(name)),
      errors: plan.errors,
    };
    logger.info({ created: created.length, existing: body200.existing.length, errors: plan.errors.length }, 'mail domains provisioned');
    res.json(body200);
  });
  return router;
}
