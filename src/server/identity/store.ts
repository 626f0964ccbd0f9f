/**
 * Users, tenants (organizations of projects), projects, memberships, API tokens, workload owners
 * and the audit log, in SQL (PostgreSQL or PGlite). Budgets and ledgers stay in their Temporal
 * entity workflows; this store only says who may touch which project.
 */
import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '../storage/database.js';
import { higherRole, type Role } from './roles.js';
import { mintToken, parseToken, tokenFingerprint, verifySecret } from './tokens.js';

export interface User {
  id: string;
  name: string;
  email?: string;
  serverAdmin: boolean;
  createdAt: string;
}

export interface Project {
  name: string;
  tenant: string;
  createdAt: string;
}

export interface Principal {
  user: User;
  tokenId: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  userId: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface AuditEntry {
  userId?: string;
  tokenId?: string;
  method: string;
  path: string;
  action: string;
  resource?: string;
  project?: string;
  tenant?: string;
  outcome: 'allowed' | 'denied' | 'error';
  status: number;
  reason?: string;
  ip?: string;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  at: string;
}

export class IdentityError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}

type Row = Record<string, unknown>;
const iso = (v: unknown): string | undefined => (v == null ? undefined : new Date(v as string).toISOString());

function toUser(r: Row): User {
  return { id: String(r.id), name: String(r.name), ...(r.email ? { email: String(r.email) } : {}), serverAdmin: !!r.server_admin, createdAt: iso(r.created_at)! };
}
function toProject(r: Row): Project {
  return { name: String(r.name), tenant: String(r.tenant), createdAt: iso(r.created_at)! };
}
function toToken(r: Row): TokenInfo {
  const o: TokenInfo = { id: String(r.id), name: String(r.name), userId: String(r.user_id), createdAt: iso(r.created_at)! };
  if (r.expires_at) o.expiresAt = iso(r.expires_at)!;
  if (r.last_used_at) o.lastUsedAt = iso(r.last_used_at)!;
  if (r.revoked_at) o.revokedAt = iso(r.revoked_at)!;
  return o;
}

/** Unique-violation from either driver. */
function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string }).code === '23505';
}

const AUTH_CACHE_MS = 30_000;
/**
 * Projects and roles are read on every request. This process forgets them on any change it makes;
 * changes made by another server process on the same PostgreSQL take effect within this time.
 */
const ACCESS_CACHE_MS = 5_000;

export class IdentityStore {
  /** Verified tokens, by fingerprint: scrypt runs once per token per AUTH_CACHE_MS, not per request. */
  private readonly authCache = new Map<string, { principal: Principal; until: number }>();

  private readonly accessCache = new Map<string, { value: unknown; until: number }>();

  constructor(readonly db: SqlDatabase) {}

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.accessCache.get(key);
    if (hit && hit.until > Date.now()) return hit.value as T;
    const value = await load();
    this.accessCache.set(key, { value, until: Date.now() + ACCESS_CACHE_MS });
    return value;
  }

  private forgetAccess(): void {
    this.accessCache.clear();
  }

  // ---------------------------------------------------------------- tenants and projects

  async createTenant(name: string): Promise<{ name: string }> {
    try {
      await this.db.query('INSERT INTO tenants (name) VALUES ($1)', [name]);
      this.forgetAccess();
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError(409, `tenant "${name}" already exists`);
      throw e;
    }
    return { name };
  }

  async listTenants(): Promise<{ name: string; projects: string[] }[]> {
    const rows = await this.db.query('SELECT t.name, coalesce(array_agg(p.name ORDER BY p.name) FILTER (WHERE p.name IS NOT NULL), ARRAY[]::text[]) AS projects FROM tenants t LEFT JOIN projects p ON p.tenant = t.name GROUP BY t.name ORDER BY t.name');
    return rows.map((r) => ({ name: String(r.name), projects: (r.projects as string[]) ?? [] }));
  }

  async tenantExists(name: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM tenants WHERE name = $1', [name])).length > 0;
  }

  async createProject(name: string, tenant: string): Promise<Project> {
    if (!(await this.tenantExists(tenant))) throw new IdentityError(404, `tenant "${tenant}" does not exist: create it first (POST /v1/tenants)`);
    try {
      const [r] = await this.db.query('INSERT INTO projects (name, tenant) VALUES ($1, $2) RETURNING *', [name, tenant]);
      this.forgetAccess();
      return toProject(r!);
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError(409, `project "${name}" already exists`);
      throw e;
    }
  }

  async getProject(name: string): Promise<Project | undefined> {
    return this.cached(`project\0${name}`, async () => {
      const [r] = await this.db.query('SELECT * FROM projects WHERE name = $1', [name]);
      return r ? toProject(r) : undefined;
    });
  }

  async listProjects(): Promise<Project[]> {
    return (await this.db.query('SELECT * FROM projects ORDER BY name')).map(toProject);
  }

  // ---------------------------------------------------------------- users and roles

  async createUser(input: { name: string; email?: string; serverAdmin?: boolean }): Promise<User> {
    try {
      const [r] = await this.db.query('INSERT INTO users (id, name, email, server_admin) VALUES ($1, $2, $3, $4) RETURNING *', [
        randomUUID(),
        input.name,
        input.email ?? null,
        !!input.serverAdmin,
      ]);
      return toUser(r!);
    } catch (e) {
      if (isUniqueViolation(e)) throw new IdentityError(409, `user "${input.name}" already exists`);
      throw e;
    }
  }

  async getUser(idOrName: string): Promise<User | undefined> {
    const [r] = await this.db.query('SELECT * FROM users WHERE (id = $1 OR name = $1) AND disabled_at IS NULL', [idOrName]);
    return r ? toUser(r) : undefined;
  }

  async listUsers(): Promise<User[]> {
    return (await this.db.query('SELECT * FROM users WHERE disabled_at IS NULL ORDER BY name')).map(toUser);
  }

  async countUsers(): Promise<number> {
    const [r] = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM users');
    return Number(r!.n);
  }

  /** Disables the user and revokes its tokens. */
  async disableUser(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE users SET disabled_at = now() WHERE id = $1', [id]);
      await tx.query('UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [id]);
    });
    this.authCache.clear();
    this.forgetAccess();
  }

  /** role null removes the membership. */
  async setProjectRole(project: string, userId: string, role: Role | null): Promise<void> {
    this.forgetAccess();
    if (role === null) await this.db.query('DELETE FROM project_members WHERE project = $1 AND user_id = $2', [project, userId]);
    else await this.db.query('INSERT INTO project_members (project, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (project, user_id) DO UPDATE SET role = EXCLUDED.role', [project, userId, role]);
  }

  async setTenantRole(tenant: string, userId: string, role: Role | null): Promise<void> {
    this.forgetAccess();
    if (role === null) await this.db.query('DELETE FROM tenant_members WHERE tenant = $1 AND user_id = $2', [tenant, userId]);
    else await this.db.query('INSERT INTO tenant_members (tenant, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (tenant, user_id) DO UPDATE SET role = EXCLUDED.role', [tenant, userId, role]);
  }

  async projectMembers(project: string): Promise<{ user: string; userId: string; role: Role }[]> {
    const rows = await this.db.query('SELECT u.name, u.id, m.role FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project = $1 ORDER BY u.name', [project]);
    return rows.map((r) => ({ user: String(r.name), userId: String(r.id), role: r.role as Role }));
  }

  /** The user's role in a project: its own membership or its tenant's, whichever is higher. */
  async roleInProject(userId: string, project: string): Promise<Role | undefined> {
    return this.cached(`role\0${userId}\0${project}`, () => this.loadRoleInProject(userId, project));
  }

  private async loadRoleInProject(userId: string, project: string): Promise<Role | undefined> {
    const rows = await this.db.query(
      `SELECT pm.role AS project_role, tm.role AS tenant_role
         FROM projects p
         LEFT JOIN project_members pm ON pm.project = p.name AND pm.user_id = $1
         LEFT JOIN tenant_members tm ON tm.tenant = p.tenant AND tm.user_id = $1
        WHERE p.name = $2`,
      [userId, project],
    );
    const r = rows[0];
    return r ? higherRole((r.project_role as Role | null) ?? undefined, (r.tenant_role as Role | null) ?? undefined) : undefined;
  }

  async roleInTenant(userId: string, tenant: string): Promise<Role | undefined> {
    const [r] = await this.db.query('SELECT role FROM tenant_members WHERE tenant = $1 AND user_id = $2', [tenant, userId]);
    return r ? (r.role as Role) : undefined;
  }

  /** Every project the user has a role in, with that role. */
  async visibleProjects(userId: string): Promise<(Project & { role: Role })[]> {
    const rows = await this.db.query(
      `SELECT p.*, pm.role AS project_role, tm.role AS tenant_role
         FROM projects p
         LEFT JOIN project_members pm ON pm.project = p.name AND pm.user_id = $1
         LEFT JOIN tenant_members tm ON tm.tenant = p.tenant AND tm.user_id = $1
        WHERE pm.role IS NOT NULL OR tm.role IS NOT NULL
        ORDER BY p.name`,
      [userId],
    );
    return rows.map((r) => ({ ...toProject(r), role: higherRole((r.project_role as Role | null) ?? undefined, (r.tenant_role as Role | null) ?? undefined)! }));
  }

  // ---------------------------------------------------------------- tokens

  async createToken(userId: string, name: string, expiresAt?: Date): Promise<{ token: string; info: TokenInfo }> {
    const minted = await mintToken();
    const [r] = await this.db.query('INSERT INTO api_tokens (id, user_id, name, hash, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
      minted.id,
      userId,
      name,
      minted.hash,
      expiresAt ?? null,
    ]);
    return { token: minted.token, info: toToken(r!) };
  }

  async listTokens(userId?: string): Promise<TokenInfo[]> {
    const rows = userId
      ? await this.db.query('SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at', [userId])
      : await this.db.query('SELECT * FROM api_tokens ORDER BY created_at');
    return rows.map(toToken);
  }

  async getToken(id: string): Promise<TokenInfo | undefined> {
    const [r] = await this.db.query('SELECT * FROM api_tokens WHERE id = $1', [id]);
    return r ? toToken(r) : undefined;
  }

  async revokeToken(id: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
    for (const [k, v] of this.authCache) if (v.principal.tokenId === id) this.authCache.delete(k);
    return rows.length > 0;
  }

  /** The token's user, or undefined for an unknown, revoked, expired or wrong token. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const fp = tokenFingerprint(token);
    const cached = this.authCache.get(fp);
    if (cached && cached.until > Date.now()) return cached.principal;
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const [r] = await this.db.query(
      `SELECT t.hash, t.expires_at, u.* FROM api_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.id = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL`,
      [parsed.id],
    );
    if (!r) return undefined;
    if (r.expires_at && new Date(r.expires_at as string).getTime() <= Date.now()) return undefined;
    if (!(await verifySecret(parsed.secret, String(r.hash)))) return undefined;
    await this.db.query('UPDATE api_tokens SET last_used_at = now() WHERE id = $1', [parsed.id]);
    const principal: Principal = { user: toUser(r), tokenId: parsed.id };
    const until = Math.min(Date.now() + AUTH_CACHE_MS, r.expires_at ? new Date(r.expires_at as string).getTime() : Infinity);
    this.authCache.set(fp, { principal, until });
    return principal;
  }

  // ---------------------------------------------------------------- workload owners

  async recordOwner(workloadId: string, project: string, tenant: string, userId: string): Promise<void> {
    await this.db.query('INSERT INTO workload_owners (workload_id, project, tenant, user_id) VALUES ($1, $2, $3, $4)', [workloadId, project, tenant, userId]);
  }

  async forgetOwner(workloadId: string): Promise<void> {
    await this.db.query('DELETE FROM workload_owners WHERE workload_id = $1', [workloadId]);
  }

  async ownerOf(workloadId: string): Promise<{ userId: string; project: string; tenant: string } | undefined> {
    const [r] = await this.db.query('SELECT user_id, project, tenant FROM workload_owners WHERE workload_id = $1', [workloadId]);
    return r ? { userId: String(r.user_id), project: String(r.project), tenant: String(r.tenant) } : undefined;
  }

  // ---------------------------------------------------------------- audit

  async audit(e: AuditEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_log (user_id, token_id, method, path, action, resource, project, tenant, outcome, status, reason, ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [e.userId ?? null, e.tokenId ?? null, e.method, e.path, e.action, e.resource ?? null, e.project ?? null, e.tenant ?? null, e.outcome, e.status, e.reason ?? null, e.ip ?? null],
    );
  }

  async listAudit(q: { projects?: string[]; outcome?: AuditEntry['outcome']; userId?: string; limit?: number; beforeId?: string } = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.projects) {
      params.push(q.projects);
      where.push(`project = ANY($${params.length})`);
    }
    if (q.outcome) {
      params.push(q.outcome);
      where.push(`outcome = $${params.length}`);
    }
    if (q.userId) {
      params.push(q.userId);
      where.push(`user_id = $${params.length}`);
    }
    if (q.beforeId) {
      params.push(q.beforeId);
      where.push(`id < $${params.length}`);
    }
    params.push(Math.min(q.limit ?? 100, 1000));
    const rows = await this.db.query(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params);
    return rows.map((r) => {
      const o: AuditRecord = { id: String(r.id), at: iso(r.at)!, method: String(r.method), path: String(r.path), action: String(r.action), outcome: r.outcome as AuditEntry['outcome'], status: Number(r.status) };
      for (const [k, col] of [['userId', 'user_id'], ['tokenId', 'token_id'], ['resource', 'resource'], ['project', 'project'], ['tenant', 'tenant'], ['reason', 'reason'], ['ip', 'ip']] as const) {
        if (r[col] != null) o[k] = String(r[col]);
      }
      return o;
    });
  }
}
