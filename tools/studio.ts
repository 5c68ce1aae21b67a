import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadDotEnv } from '../src/config';
import { DEFAULT_DATABASE_URL, providerOf, sqliteFilePath } from '../src/db/provider';

/**
 * `npm run studio`: Prisma Studio on DATABASE_URL. Studio needs an absolute `file:///` URL for SQLite,
 * and must not open a browser on a server. Port 5555 unless given; extra arguments are passed on
 * (e.g. `npm run studio -- --port 5556`).
 */
loadDotEnv();
const databaseUrl = process.env.DATABASE_URL?.trim() || DEFAULT_DATABASE_URL;
const provider = providerOf(databaseUrl);
const url = provider === 'sqlite' ? `file://${resolve(sqliteFilePath(databaseUrl))}` : databaseUrl;
const extra = process.argv.slice(2);
const port = extra.some((arg) => /^(-p|--port)(=|$)/.test(arg)) ? [] : ['--port', '5555'];
const child = spawn(process.execPath, [require.resolve('prisma/build/index.js'), 'studio', '--browser', 'none', '--url', url, ...port, ...extra], {
  stdio: 'inherit',
  env: { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
child.on('exit', (code) => process.exit(code ?? 0));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
