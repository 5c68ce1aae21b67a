import { execFileSync } from 'node:child_process';
import { PROVIDERS } from '../src/db/migrations';
import { schemaPath, writeSchemas } from './schemas';

/*
 * Install-time step (npm's `prepare`): renders each provider's schema from prisma/models.prisma and
 * generates its client. `prisma generate` never runs the native schema engine but insists on finding
 * one, which cannot be downloaded here: any existing file satisfies it.
 */
writeSchemas();
const prismaCli = require.resolve('prisma/build/index.js');
for (const provider of PROVIDERS) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', schemaPath(provider)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
  console.log(`generated the ${provider} client in generated/${provider}`);
}
