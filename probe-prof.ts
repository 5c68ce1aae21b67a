import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createTestDatabase } from './test/support/databases';
import { DeployCenterStandIn } from './test/support/deploycenter-server';
import { createDomains } from './test/support/fixtures';
import { execSync } from 'node:child_process';
function pgCpu(): number { let t = 0; for (const pid of execSync('pgrep postgres || true').toString().split('\n').filter(Boolean)) { try { const f = require('fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); t += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); } catch {} } return t; }
async function main() {
  const USERS = Number(process.env.USERS ?? 20000);
  const db = await createTestDatabase('postgresql');
  const dc = await new DeployCenterStandIn().start();
  dc.recordRequests = false;
  const pool = Array.from({ length: 1000 }, (_, i) => `r${i}.bench.example`);
  await createDomains(db.prisma, pool);
  const users = Array.from({ length: USERS }, (_, i) => ({ sub: `bench-${i}`, email: `u${i}@bench.example` }));
  for (let i = 0; i < users.length; i += 2000) await db.prisma.user.createMany({ data: users.slice(i, i + 2000) });
  users.forEach((user, i) => dc.entitlementsByEmail.set(user.email, { can_access: true, can_admin_maildomains: Array.from({ length: 10 }, (_, d) => pool[(i * 7 + d * 97) % pool.length]) }));
  for (const prof of [false, false]) {
    const t = performance.now(); const c0 = process.cpuUsage(); const pg0 = pgCpu();
    const child = spawn('node', [...(prof ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', 'src/bin/main.ts', 'resync', '--prisma', './server/prisma.ts', '--all', '--concurrency', process.env.C ?? '64'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, ENTITLEMENTS_BACKEND: 'deploycenter', ENTITLEMENTS_BACKEND_PARAMETERS: JSON.stringify({ base_url: dc.url, service_id: 'm', timeout: 10 }), ENTITLEMENTS_API_KEY: 'k' },
    });
    await new Promise((r) => child.once('close', r));
    const c = process.cpuUsage(c0); console.log(prof ? 'in sync (profiled)' : 'run', ((performance.now() - t) / 1000).toFixed(1), 's; parent cpu', ((c.user + c.system) / 1e6).toFixed(1), 'pg cpu', ((pgCpu() - pg0) / 100).toFixed(1));
  }
  await dc.stop(); await db.drop();
}
main();
