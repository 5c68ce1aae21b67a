import { randomUUID } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import type { z } from 'zod';
import type { Config } from '../config';
import { isUniqueViolation } from '../db/prisma-errors';
import { lockUserRow } from '../db/user-lock';
import { validDomainName } from '../sync/domain-names';
import { ApiError, NOT_FOUND, parse, PERMISSION_DENIED, requireUser } from './errors';
import { listOrPage } from './pagination';
import type { AccessRow, AccessUser, ApiPrismaClient, MailDomainRow } from './prisma-types';
import { AccessRequest, MailDomainRequest, type AccessBody, type MailDomainBody } from './schemas';

/** Prisma's default wait for a connection (2 s) is short for a loaded server: a request waits rather than fails. */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 };
const ACCESS_EXISTS = 'user: this user already has an access to this mail domain';

export function toMailDomain(domain: MailDomainRow): z.infer<typeof MailDomainBody> {
  return {
    id: domain.id,
    name: domain.name,
    custom_attributes: (domain.customAttributes ?? {}) as Record<string, unknown>,
    created_at: domain.createdAt.toISOString(),
    updated_at: domain.updatedAt.toISOString(),
  };
}

export function toAccess(access: AccessRow & { user: AccessUser }): z.infer<typeof AccessBody> {
  return {
    id: access.id,
    user: { id: access.user.id, email: access.user.email, full_name: access.user.fullName },
    role: access.role,
    source: access.source,
    created_at: access.createdAt.toISOString(),
  };
}

/**
 * Ids are uuids: anything else (too long, a NUL byte PostgreSQL refuses in text) is not an id of ours,
 * answered without a query.
 */
const isId = (value: string) => /^[\w-]{1,64}$/.test(value);

export interface MailDomainDeps {
  prisma: ApiPrismaClient;
  features: Config['features'];
}

/** docs/specification.md §7.6: mail domains and their accesses. */
export function mailDomainRoutes({ prisma, features }: MailDomainDeps, gate: RequestHandler): Router {
  const router = Router();

  /** The domain of the path, when the user may manage its accesses (its admins and superusers). */
  async function managedDomain(req: Request): Promise<MailDomainRow> {
    const id = String(req.params.id);
    const domain = isId(id) ? await prisma.mailDomain.findUnique({ where: { id } }) : null;
    if (!domain) throw new ApiError(404, NOT_FOUND);
    const user = req.user!;
    if (user.isSuperuser) return domain;
    const admin = await prisma.mailDomainAccess.findFirst({ where: { userId: user.id, maildomainId: domain.id, role: 'ADMIN' } });
    if (!admin) throw new ApiError(403, PERMISSION_DENIED);
    return domain;
  }

  function requireAccessManagement(): void {
    if (!features.maildomainManageAccesses) throw new ApiError(403, 'Managing mail domain accesses is disabled (FEATURE_MAILDOMAIN_MANAGE_ACCESSES)');
  }

  router.get('/maildomains/', requireUser, gate, async (req, res) => {
    const user = req.user!;
    const where = user.isSuperuser ? undefined : { accesses: { some: { userId: user.id, role: 'ADMIN' as const } } };
    const list = (skip?: number, take?: number) =>
      prisma.mailDomain.findMany({ where, orderBy: { name: 'asc' }, skip, take }).then((rows) => rows.map(toMailDomain));
    res.json(await listOrPage(req, () => prisma.mailDomain.count({ where }), list));
  });

  router.post('/maildomains/', requireUser, gate, async (req, res) => {
    if (!req.user!.isSuperuser) throw new ApiError(403, PERMISSION_DENIED);
    if (!features.maildomainCreate) throw new ApiError(403, 'Creating mail domains is disabled (FEATURE_MAILDOMAIN_CREATE)');
    const { name: input } = parse(MailDomainRequest, req.body ?? {});
    const name = validDomainName(input);
    if (!name) throw new ApiError(400, 'name: invalid domain name');
    try {
      res.status(201).json(toMailDomain(await prisma.mailDomain.create({ data: { name } })));
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError(400, 'name: a mail domain with this name already exists');
      throw error;
    }
  });

  router.get('/maildomains/:id/accesses/', requireUser, gate, async (req, res) => {
    const domain = await managedDomain(req);
    const where = { maildomainId: domain.id };
    const list = (skip?: number, take?: number) =>
      prisma.mailDomainAccess
        .findMany({ where, include: { user: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], skip, take })
        .then((rows) => rows.map(toAccess));
    res.json(await listOrPage(req, () => prisma.mailDomainAccess.count({ where }), list));
  });

  router.post('/maildomains/:id/accesses/', requireUser, gate, async (req, res) => {
    const domain = await managedDomain(req);
    requireAccessManagement();
    const { user: userId, role } = parse(AccessRequest, req.body ?? {});
    const actor = req.user!.id;
    const access = await prisma.$transaction(async (tx) => {
      // The user's lock first: a sync of the same user runs before or after this grant, never across it.
      if (!isId(userId) || !(await lockUserRow(tx, userId))) throw new ApiError(400, 'user: no such user');
      if (await tx.mailDomainAccess.findFirst({ where: { userId, maildomainId: domain.id } })) throw new ApiError(400, ACCESS_EXISTS);
      const created = await tx.mailDomainAccess
        .create({ data: { userId, maildomainId: domain.id, role, source: 'MANUAL' }, include: { user: true } })
        .catch((error: unknown) => {
          if (isUniqueViolation(error)) throw new ApiError(400, ACCESS_EXISTS); // a writer that bypassed the lock
          throw error;
        });
      await tx.accessEvent.create({
        data: { action: 'GRANTED', userId, maildomainId: domain.id, domainName: domain.name, role, source: 'MANUAL', actor, correlationId: randomUUID() },
      });
      return created;
    }, TRANSACTION_OPTIONS);
    res.status(201).json(toAccess(access));
  });

  router.delete('/maildomains/:id/accesses/:accessId/', requireUser, gate, async (req, res) => {
    const domain = await managedDomain(req);
    requireAccessManagement();
    const accessId = String(req.params.accessId);
    const where = { id: accessId, maildomainId: domain.id };
    // Whose lock to take; read before the transaction, whose first statement must be the lock (on
    // SQLite a transaction that reads before it writes fails when another wrote in between).
    const seen = isId(accessId) ? await prisma.mailDomainAccess.findFirst({ where }) : null;
    if (!seen) throw new ApiError(404, NOT_FOUND);
    await prisma.$transaction(async (tx) => {
      await lockUserRow(tx, seen.userId);
      // The row as it is under the lock: a sync may have changed it, another request deleted it.
      const access = await tx.mailDomainAccess.findFirst({ where });
      if (!access) throw new ApiError(404, NOT_FOUND);
      await tx.mailDomainAccess.delete({ where: { id: access.id } });
      await tx.accessEvent.create({
        data: {
          action: 'REVOKED',
          userId: access.userId,
          maildomainId: domain.id,
          domainName: domain.name,
          role: access.role,
          source: access.source,
          actor: req.user!.id,
          correlationId: randomUUID(),
        },
      });
    }, TRANSACTION_OPTIONS);
    res.status(204).end();
  });
  return router;
}
