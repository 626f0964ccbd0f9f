/**
 * Schema migrations, applied in order once each and recorded in schema_migrations. Append new
 * ones; never edit an applied one. Plain PostgreSQL that PGlite runs unchanged.
 */
import type { SqlDatabase } from './database.js';

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'identity and audit',
    sql: `
      CREATE TABLE tenants (
        name text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE projects (
        name text PRIMARY KEY,
        tenant text NOT NULL REFERENCES tenants(name),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX projects_tenant ON projects(tenant);
      CREATE TABLE users (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        email text,
        server_admin boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        disabled_at timestamptz
      );
      CREATE TABLE tenant_members (
        tenant text NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('viewer', 'member', 'admin')),
        PRIMARY KEY (tenant, user_id)
      );
      CREATE TABLE project_members (
        project text NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('viewer', 'member', 'admin')),
        PRIMARY KEY (project, user_id)
      );
      CREATE INDEX project_members_user ON project_members(user_id);
      CREATE TABLE api_tokens (
        id text PRIMARY KEY,
        user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name text NOT NULL,
        hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE INDEX api_tokens_user ON api_tokens(user_id);
      CREATE TABLE workload_owners (
        workload_id text PRIMARY KEY,
        project text NOT NULL REFERENCES projects(name),
        tenant text NOT NULL REFERENCES tenants(name),
        user_id text NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        user_id text,
        token_id text,
        method text NOT NULL,
        path text NOT NULL,
        action text NOT NULL,
        resource text,
        project text,
        tenant text,
        outcome text NOT NULL CHECK (outcome IN ('allowed', 'denied', 'error')),
        status integer NOT NULL,
        reason text,
        ip text
      );
      CREATE INDEX audit_log_at ON audit_log(at DESC);
      CREATE INDEX audit_log_project ON audit_log(project, at DESC);
    `,
  },
];

/** Applies pending migrations under an advisory lock (two servers starting together take turns). */
export async function migrate(db: SqlDatabase): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(7233001)');
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const stmt of m.sql.split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
