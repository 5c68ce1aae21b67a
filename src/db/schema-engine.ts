import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as WasmEngine from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { Pool } from 'pg';
import { createAdapterFactory, importPeer } from './adapters';
import { providerOf } from './provider';

/*
 * Prisma's CLI runs migrations through a native binary it downloads, which these machines cannot fetch.
 * The same engine ships as WebAssembly (@prisma/schema-engine-wasm) and talks to the database through a
 * driver adapter. Its package entry point imports the .wasm file as an ES module, which Node 20 cannot
 * do, so the module is instantiated here by hand.
 */

type WasmModule = typeof WasmEngine;
export type SchemaEngine = WasmEngine.SchemaEngine;
export type MigrationList = WasmEngine.MigrationList;

export const NO_FILTERS: WasmEngine.SchemaFilter = { externalTables: [], externalEnums: [] };

let wasmModule: Promise<WasmModule> | undefined;

function loadWasm(): Promise<WasmModule> {
  wasmModule ??= (async () => {
    const bindings = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as WasmModule & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    const wasmPath = join(dirname(createRequire(__filename).resolve('@prisma/schema-engine-wasm/schema_engine_bg')), 'schema_engine_bg.wasm');
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), { './schema_engine_bg.js': withUnrefTimers(bindings) });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings;
  })();
  return wasmModule;
}

/**
 * The engine races some operations against 10-second timers it never clears, which kept every
 * process that migrated alive for 10 more seconds. Its timers are unref'd; an open session keeps the
 * event loop alive by itself instead (see openSchemaEngine).
 */
function withUnrefTimers(bindings: WasmModule): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...bindings };
  for (const [name, value] of Object.entries(bindings)) {
    if (name.startsWith('__wbg_setTimeout_') && typeof value === 'function') {
      imports[name] = (...args: unknown[]) => {
        const timer = (value as (...a: unknown[]) => unknown)(...args);
        (timer as { unref?: () => void } | undefined)?.unref?.();
        return timer;
      };
    }
  }
  return imports;
}

/**
 * adapter-pg cannot read the `"char"` column type (OID 18) that PostgreSQL's catalogs use, and the
 * engine's introspection reads them: those columns are reported as text, which is what they hold.
 */
async function catalogFriendlyPool(connectionString: string): Promise<Pool> {
  const { default: pg } = await importPeer('postgresql', () => import('pg'));
  class CatalogFriendlyPool extends pg.Pool {
    override query(...args: unknown[]): never {
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (result instanceof Promise) {
        return result.then((value: { fields?: { dataTypeID: number }[] }) => {
          for (const field of value?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
          return value;
        }) as never;
      }
      return result as never;
    }
  }
  return new CatalogFriendlyPool({ connectionString, max: 2 });
}

/**
 * On SQLite the engine sends whole scripts through `executeRaw` with no arguments; better-sqlite3 runs
 * only the first statement of those, so they are routed to `executeScript`.
 */
function routeScripts(adapter: SqlDriverAdapter): SqlDriverAdapter {
  if (adapter.provider !== 'sqlite') return adapter;
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    if (query.args.length > 0) return executeRaw(query);
    await adapter.executeScript(query.sql);
    return 0;
  };
  return adapter;
}

export interface EngineSession {
  engine: SchemaEngine;
  close(): Promise<void>;
}

/** Opens the schema engine on a database; `close()` frees it and every connection it opened. */
export async function openSchemaEngine(databaseUrl: string, schema: { path: string; content: string }): Promise<EngineSession> {
  const wasm = await loadWasm();
  const pool = providerOf(databaseUrl) === 'postgresql' ? await catalogFriendlyPool(databaseUrl) : undefined;
  let inner: SqlMigrationAwareDriverAdapterFactory;
  try {
    inner = await createAdapterFactory(databaseUrl, { pool });
  } catch (error) {
    await pool?.end();
    throw error;
  }
  const opened: SqlDriverAdapter[] = [];
  const track = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    return routeScripts(adapter);
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => track(await inner.connect()),
    connectToShadowDb: async () => track(await inner.connectToShadowDb()),
  };
  const keepAlive = setInterval(() => undefined, 60_000);
  const release = async () => {
    clearInterval(keepAlive);
    for (const adapter of opened) await adapter.dispose();
    await pool?.end();
  };
  let engine: SchemaEngine;
  try {
    engine = await wasm.SchemaEngine.new({ datamodels: [[schema.path, schema.content]] }, () => undefined, bindMigrationAwareSqlAdapterFactory(factory));
  } catch (error) {
    await release();
    throw error;
  }
  return {
    engine,
    close: async () => {
      engine.free();
      await release();
    },
  };
}
