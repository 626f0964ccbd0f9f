/**
 * The server's SQL database: PostgreSQL in production (a `postgres://` URL, through `pg`) or the
 * embedded default, PGlite (PostgreSQL compiled to WASM, in a directory or in memory). Both run the
 * same SQL with `$1` parameters, so the stores and migrations have one code path.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface SqlDatabase {
  readonly kind: 'postgres' | 'pglite';
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs fn on one connection inside BEGIN/COMMIT (ROLLBACK on throw). */
  transaction<T>(fn: (tx: Pick<SqlDatabase, 'query'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}
  async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }
  async transaction<T>(fn: (tx: Pick<SqlDatabase, 'query'>) => Promise<T>): Promise<T> {
    const conn = await this.pool.connect();
    try {
      await conn.query('BEGIN');
      const out = await fn({ query: async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await conn.query<R>(sql, params)).rows });
      await conn.query('COMMIT');
      return out;
    } catch (e) {
      await conn.query('ROLLBACK');
      throw e;
    } finally {
      conn.release();
    }
  }
  close(): Promise<void> {
    return this.pool.end();
  }
}

class PgliteDatabase implements SqlDatabase {
  readonly kind = 'pglite' as const;
  constructor(private readonly db: PGlite) {}
  async query<R extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(sql, params)).rows;
  }
  transaction<T>(fn: (tx: Pick<SqlDatabase, 'query'>) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn({ query: async <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await tx.query<R>(sql, params)).rows }));
  }
  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * `postgres://…` or `postgresql://…`: PostgreSQL. `pglite:<dir>`: PGlite with its data in dir.
 * `pglite:memory` (or `memory`): PGlite in memory, gone when the process ends.
 */
export async function openDatabase(url: string): Promise<SqlDatabase> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    // Fail at start, not on the first request, when the server is unreachable.
    await pool.query('SELECT 1');
    return new PostgresDatabase(pool);
  }
  const m = /^(?:pglite:)?(.*)$/.exec(url)!;
  const where = m[1] === 'memory' || m[1] === '' ? undefined : m[1]!;
  if (where) mkdirSync(where, { recursive: true, mode: 0o700 });
  const db = where ? await PGlite.create(where) : await PGlite.create();
  return new PgliteDatabase(db);
}
