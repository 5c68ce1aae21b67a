#!/usr/bin/env node
import { ConfigError } from '../config';
import { DEV_IDP_HELP, devIdpCommand } from './dev-idp';
import { MIGRATE_HELP, migrateCommand } from './migrate';
import { MODELS_HELP, modelsCommand } from './models';
import { RESYNC_HELP, resyncCommand, UsageError } from './resync';

const HELP = `usage: oidc-entitlements <command> [options]

commands:
  models [--out PATH]   print the package's Prisma models, or write them into your schema folder
  migrate               apply the package's migrations to DATABASE_URL (SQLite or PostgreSQL), offline
  resync --prisma MODULE (--all | --email E | --sub S) [--dry-run] [--concurrency N]
                        re-sync users' ADMIN rows without a login
  dev-idp --client-id ID --client-secret S --redirect-uri URI [--port 4000]
                        DEVELOPMENT ONLY: an OpenID Provider with demo accounts (needs oidc-provider)

\`oidc-entitlements <command> --help\` says more about one.`;

const COMMANDS: Record<string, { help: string; run: (argv: string[]) => Promise<number> | number }> = {
  models: {
    help: MODELS_HELP,
    run: (argv) => {
      if (argv.length > 0 && !(argv[0] === '--out' && argv.length === 2)) throw new UsageError('usage: oidc-entitlements models [--out PATH]');
      return modelsCommand(argv[1]);
    },
  },
  migrate: {
    help: MIGRATE_HELP,
    run: (argv) => {
      if (argv.length > 0) throw new UsageError('migrate takes no option: it reads DATABASE_URL');
      return migrateCommand();
    },
  },
  resync: { help: RESYNC_HELP, run: resyncCommand },
  'dev-idp': { help: DEV_IDP_HELP, run: devIdpCommand },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`oidc-entitlements: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`oidc-entitlements ${name}: ${(error as Error).message}\n\n${command.help}`);
      return 2;
    }
    const message =
      error instanceof ConfigError ? `configuration error: ${error.message}` : error instanceof Error ? error.message.split('\n')[0] : String(error);
    console.error(`oidc-entitlements ${name}: ${message}`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
