import { timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Router } from 'express';
import { z } from 'zod';

/** The development entitlements: one answer per email, and a default for everyone else. */
const fileSchema = z.object({
  default: z.record(z.string(), z.unknown()).default({}),
  users: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
});
export type DevEntitlementsFile = z.infer<typeof fileSchema>;

export const EXAMPLE_ENTITLEMENTS: DevEntitlementsFile = {
  default: { can_access: true, can_create: false, can_admin_maildomains: [] },
  users: {
    'alice@example.fr': { can_create: true, can_admin_maildomains: ['alice.example.fr', 'shared.example.fr'] },
    'bob@example.fr': { can_admin_maildomains: ['shared.example.fr'] },
    'carol@numerique.gouv.fr': { can_access: false, can_access_reason: 'No subscription for this organisation' },
  },
};

/** Creates the file with the example on first start, so there is something to edit. */
export function ensureEntitlementsFile(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(EXAMPLE_ENTITLEMENTS, null, 2)}\n`);
}

export function readEntitlementsFile(file: string): DevEntitlementsFile {
  return fileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A DeployCenter-compatible endpoint for development (`GET …/api/v1.0/entitlements/`), answering from
 * a JSON file read at every request: edit the file, log in again, see the rows change.
 */
export function devDeployCenterRouter({ file, apiKey }: { file: string; apiKey: string }): Router {
  const router = Router();
  router.get('/api/v1.0/entitlements/', (req, res) => {
    if (!sameSecret(req.get('x-service-auth') ?? '', `Bearer ${apiKey}`)) {
      res.status(403).json({ detail: 'Invalid service authentication' });
      return;
    }
    let entitlements: DevEntitlementsFile;
    try {
      entitlements = readEntitlementsFile(file);
    } catch (error) {
      res.status(500).json({ detail: `${file} is not a valid entitlements file: ${(error as Error).message.split('\n')[0]}` });
      return;
    }
    const email = String(req.query.account_email ?? '')
      .trim()
      .toLowerCase();
    res.json({
      organization: { name: 'Development organisation', siret: req.query.siret ?? null },
      operator: { name: 'Development operator' },
      entitlements: { ...entitlements.default, ...entitlements.users[email] },
    });
  });
  return router;
}
