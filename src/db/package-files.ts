import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'oidc-entitlements';

let root: string | undefined;

/**
 * The folder of the installed package (or of the repository): the models and migrations ship in its
 * `prisma/`. Found by walking up from this module, which is `src/db/` in the repository and `dist/`
 * once built.
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
      root = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package's own folder from ${__dirname}`);
  }
}

export function prismaDir(): string {
  return join(packageRoot(), 'prisma');
}

/** The package's Prisma models (the tables of docs/specification.md §8), for a host's schema folder. */
export function modelsPath(): string {
  return join(prismaDir(), 'models.prisma');
}
