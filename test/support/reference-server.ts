import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';

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
  let output = '';
  const child: ChildProcess = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'server', 'main.ts')], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the reference server did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('reference server: http')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`the reference server exited (${code}):\n${output}`));
    });
  });
  return {
    url: `http://localhost:${port}`,
    dir,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
