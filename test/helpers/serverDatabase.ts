/**
 * Databases for server tests: PGlite in memory, and a fresh database on the machine's PostgreSQL
 * (GPUFLOW_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test) dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type SqlDatabase } from '../../src/server/storage/database.js';

export const TEST_POSTGRES_URL = process.env.GPUFLOW_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  db: SqlDatabase;
  drop(): Promise<void>;
}

export async function pgliteDatabase(): Promise<TestDatabase> {
  const db = await openDatabase('pglite:memory');
  return { url: 'pglite:memory', db, drop: () => db.close() };
}

export async function freshPostgresDatabase(): Promise<TestDatabase> {
  const name = `gpuflow_server_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(TEST_POSTGRES_URL);
  u.pathname = `/${name}`;
  const db = await openDatabase(u.toString());
  return {
    url: u.toString(),
    db,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
