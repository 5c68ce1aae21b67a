import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';

/**
 * Counts every SQL statement a Prisma client sends through its driver adapter, BEGIN and COMMIT
 * included: what "statements per sync" means in the tests and the benchmark.
 */
export class StatementCounter {
  statements: string[] = [];
  /** The arguments of each statement, in step with `statements` (none for BEGIN and scripts). */
  args: unknown[][] = [];
  /** When set, a statement it matches fails before reaching the database (failure injection). */
  failWhen: ((sql: string, args: unknown[]) => boolean) | null = null;
  /** Runs after each statement, before its caller gets the result: a test can pause a writer there. */
  afterStatement: ((sql: string) => Promise<void>) | null = null;

  get count(): number {
    return this.statements.length;
  }

  reset(): void {
    this.statements = [];
    this.args = [];
  }

  /** Statements that change data (INSERT, UPDATE, DELETE). */
  get writes(): string[] {
    return this.statements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)\b/i.test(sql));
  }

  wrap = (factory: SqlDriverAdapterFactory): SqlDriverAdapterFactory => ({
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => this.wrapAdapter(await factory.connect()),
  });

  private record = (query: SqlQuery | string) => {
    const sql = typeof query === 'string' ? query : query.sql;
    if (this.failWhen?.(sql, typeof query === 'string' ? [] : query.args)) throw new Error(`injected failure: ${sql.slice(0, 60)}`);
    this.statements.push(sql);
    this.args.push(typeof query === 'string' ? [] : query.args);
  };

  private wrapQueryable<T extends SqlDriverAdapter | Transaction>(target: T): T {
    const queryRaw = target.queryRaw.bind(target);
    const executeRaw = target.executeRaw.bind(target);
    target.queryRaw = async (query) => {
      this.record(query);
      const result = await queryRaw(query);
      await this.afterStatement?.(query.sql);
      return result;
    };
    target.executeRaw = async (query) => {
      this.record(query);
      const result = await executeRaw(query);
      await this.afterStatement?.(query.sql);
      return result;
    };
    return target;
  }

  private wrapAdapter(adapter: SqlDriverAdapter): SqlDriverAdapter {
    const startTransaction = adapter.startTransaction.bind(adapter);
    const executeScript = adapter.executeScript.bind(adapter);
    adapter.executeScript = async (script) => {
      this.record(script);
      return executeScript(script);
    };
    adapter.startTransaction = async (isolationLevel) => {
      const transaction = await startTransaction(isolationLevel);
      if (!transaction.options.usePhantomQuery) this.record('BEGIN');
      return this.wrapQueryable(transaction);
    };
    return this.wrapQueryable(adapter);
  }
}
