import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `oidc-entitlements resync --prisma ./server/prisma.ts <args>` (what `npm run resync` runs) as an operator runs it: a child process on `databaseUrl`, asking the
 * DeployCenter at `deployCenterUrl` (asynchronous, so a stand-in living in this process keeps answering).
 */
export async function runResyncCommand(args: string[], databaseUrl: string, deployCenterUrl: string, timeoutSeconds = 1): Promise<CommandRun> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src', 'bin', 'main.ts'), 'resync', '--prisma', './server/prisma.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      ENTITLEMENTS_BACKEND: 'deploycenter',
      ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: deployCenterUrl, service_id: 'messages', timeout: timeoutSeconds }),
      ENTITLEMENTS_API_KEY: 'k',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}
