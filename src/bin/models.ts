import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { modelsPath } from '../db/package-files';

export const MODELS_HELP = `oidc-entitlements models [--out PATH]

Prints the package's Prisma models (users, mail_domains, mail_domain_accesses, access_events,
sessions), or writes them to PATH: a file, or a folder of Prisma's multi-file schema (the file is then
PATH/oidc-entitlements.prisma). Run it again after upgrading the package, then migrate.`;

const FILE_NAME = 'oidc-entitlements.prisma';

/** `oidc-entitlements models`: the models file, printed or written into the host's schema folder. */
export function modelsCommand(out: string | undefined): number {
  if (out === undefined) {
    process.stdout.write(readFileSync(modelsPath(), 'utf8'));
    return 0;
  }
  const target = existsSync(out) && statSync(out).isDirectory() ? join(out, FILE_NAME) : out;
  copyFileSync(modelsPath(), target);
  console.log(`wrote ${target}`);
  return 0;
}
