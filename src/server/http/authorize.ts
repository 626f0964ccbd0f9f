/**
 * Authorization: every check resolves the project (and its tenant) a request touches and the
 * caller's role there. Projects the caller has no role in answer 404 (their existence is not
 * disclosed); a role that is too low answers 403. Both are recorded in the audit log.
 */
import type { FastifyRequest } from 'fastify';
import { roleAllows, type Permission, type Role } from '../identity/roles.js';
import type { IdentityStore, Principal, Project } from '../identity/store.js';
import { forbidden, HttpError, notFound } from './errors.js';

export class Authorizer {
  constructor(private readonly store: IdentityStore) {}

  principal(req: FastifyRequest): Principal {
    if (!req.principal) throw new HttpError(401, 'authentication required: send Authorization: Bearer <token> (gpuflow login)', 'no token');
    return req.principal;
  }

  requireServerAdmin(req: FastifyRequest, action: string): Principal {
    const p = this.principal(req);
    req.audit = { ...req.audit, action };
    if (!p.user.serverAdmin) throw forbidden(`${action} needs a server admin`, 'not a server admin');
    return p;
  }

  /** The project and the caller's role, checked against `permission`. */
  async requireProject(req: FastifyRequest, project: string, permission: Permission, action: string): Promise<{ project: Project; role: Role | 'server-admin' }> {
    const p = this.principal(req);
    req.audit = { ...req.audit, action, project };
    const found = await this.store.getProject(project);
    if (found) req.audit.tenant = found.tenant;
    if (p.user.serverAdmin && found) return { project: found, role: 'server-admin' };
    const role = found ? await this.store.roleInProject(p.user.id, project) : undefined;
    if (!found || !role) throw notFound(`project "${project}"`, found ? 'no role in project' : 'no such project');
    if (!roleAllows(role, permission)) throw forbidden(`${permission} in project "${project}" needs a higher role than ${role}`, `role ${role} lacks ${permission}`);
    return { project: found, role };
  }

  /** Tenant-wide reads and changes (tenant budgets and costs, projects, tenant members). */
  async requireTenant(req: FastifyRequest, tenant: string, permission: Permission, action: string): Promise<Role | 'server-admin'> {
    const p = this.principal(req);
    req.audit = { ...req.audit, action, tenant };
    const exists = await this.store.tenantExists(tenant);
    if (p.user.serverAdmin && exists) return 'server-admin';
    const role = exists ? await this.store.roleInTenant(p.user.id, tenant) : undefined;
    if (!role) throw notFound(`tenant "${tenant}"`, exists ? 'no role in tenant' : 'no such tenant');
    if (!roleAllows(role, permission)) throw forbidden(`${permission} in tenant "${tenant}" needs a higher role than ${role}`, `role ${role} lacks ${permission}`);
    return role;
  }

  /** Projects the caller may read; undefined means all (server admin). */
  async readableProjects(req: FastifyRequest): Promise<(Project & { role: Role })[] | undefined> {
    const p = this.principal(req);
    if (p.user.serverAdmin) return undefined;
    return this.store.visibleProjects(p.user.id);
  }
}
