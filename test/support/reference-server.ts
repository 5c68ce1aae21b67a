import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';
import { startProcess } from './process';

const ROOT = join(__dirname, '..', '..');

export interface ReferenceServer {
  url: string;
  /** The working directory: data/dev.db and data/dev-entitlements.json live in it. */
  dir: string;
  output(): string;
  stop(): Promise<void>;
}

/** `npm start` as a person runs it: the reference server in a fresh directory, on the embedded default. */
export async function startReferenceServer(env: Record<string, string> = {}, port?: number): Promise<ReferenceServer> {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-ent-server-'));
  port ??= await freePort();
  try {
    const server = await startProcess(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'server', 'main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), LOG_LEVEL: 'warn', ...env },
      ready: /reference server: http/,
    });
    return {
      url: `http://localhost:${port}`,
      dir,
      output: server.output,
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
