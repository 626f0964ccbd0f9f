/** Users, tenants, projects, members, API tokens and the audit log. */
import ms from 'ms';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { entityName } from '../../api/names.js';
import { RoleSchema, roleAllows, type Role } from '../../identity/roles.js';
import { forbidden, notFound } from '../errors.js';
import type { RouteContext } from '../app.js';

const userName = z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,63}$/, 'user names are 1-64 lower-case letters, digits, ".", "_", "@" or "-"');

export const CreateUserBody = z.object({ name: userName, email: z.email().optional(), serverAdmin: z.boolean().default(false) }).strict();
export const CreateTokenBody = z
  .object({
    name: z.string().min(1).max(100).default('api'),
    /** For another user (server admins only). */
    user: z.string().min(1).optional(),
    expiresIn: z
      .string()
      .refine((v) => typeof ms(v as ms.StringValue) === 'number' && ms(v as ms.StringValue) > 0, 'expiresIn is a duration such as "30d" or "12h"')
      .optional(),
  })
  .strict();
const MemberParams = z.object({ name: entityName, user: z.string().min(1) });

export function registerIdentityRoutes({ app, deps, authz }: RouteContext): void {
  const { store } = deps;

  app.get('/v1/me', { schema: { summary: 'Who the token belongs to, and its projects and roles', tags: ['identity'] } }, async (req) => {
    const p = authz.principal(req);
    return { user: p.user, tokenId: p.tokenId, projects: await store.visibleProjects(p.user.id) };
  });

  app.post('/v1/users', { schema: { summary: 'Create a user (server admin)', tags: ['identity'], body: CreateUserBody } }, async (req, reply) => {
    authz.requireServerAdmin(req, 'user.create');
    req.audit!.resource = `user:${req.body.name}`;
    return reply.status(201).send(await store.createUser({ name: req.body.name, serverAdmin: req.body.serverAdmin, ...(req.body.email ? { email: req.body.email } : {}) }));
  });

  app.get('/v1/users', { schema: { summary: 'List users (server admin)', tags: ['identity'] } }, async (req) => {
    authz.requireServerAdmin(req, 'user.list');
    return { users: await store.listUsers() };
  });

  app.delete('/v1/users/:user', { schema: { summary: 'Disable a user and revoke its tokens (server admin)', tags: ['identity'], params: z.object({ user: z.string().min(1) }) } }, async (req) => {
    authz.requireServerAdmin(req, 'user.disable');
    const u = await store.getUser(req.params.user);
    if (!u) throw notFound(`user "${req.params.user}"`);
    req.audit!.resource = `user:${u.name}`;
    await store.disableUser(u.id);
    return { disabled: u.name };
  });

  app.post('/v1/tenants', { schema: { summary: 'Create a tenant (server admin)', tags: ['identity'], body: z.object({ name: entityName }).strict() } }, async (req, reply) => {
    authz.requireServerAdmin(req, 'tenant.create');
    req.audit!.tenant = req.body.name;
    return reply.status(201).send(await store.createTenant(req.body.name));
  });

  app.get('/v1/tenants', { schema: { summary: 'Tenants you belong to (all, for server admins)', tags: ['identity'] } }, async (req) => {
    const p = authz.principal(req);
    const all = await store.listTenants();
    if (p.user.serverAdmin) return { tenants: all };
    const mine = new Set((await store.visibleProjects(p.user.id)).map((x) => x.tenant));
    const out = [];
    for (const t of all) if (mine.has(t.name) || (await store.roleInTenant(p.user.id, t.name))) out.push(t);
    return { tenants: out };
  });

  app.post('/v1/projects', { schema: { summary: 'Create a project in a tenant (server or tenant admin)', tags: ['identity'], body: z.object({ name: entityName, tenant: entityName }).strict() } }, async (req, reply) => {
    await authz.requireTenant(req, req.body.tenant, 'members', 'project.create');
    req.audit!.project = req.body.name;
    return reply.status(201).send(await store.createProject(req.body.name, req.body.tenant));
  });

  app.get('/v1/projects', { schema: { summary: 'Projects you have a role in, with the role', tags: ['identity'] } }, async (req) => {
    const readable = await authz.readableProjects(req);
    return { projects: readable ?? (await store.listProjects()).map((p) => ({ ...p, role: 'admin' as const })) };
  });

  app.get('/v1/projects/:name/members', { schema: { summary: 'A project’s members', tags: ['identity'], params: z.object({ name: entityName }) } }, async (req) => {
    await authz.requireProject(req, req.params.name, 'read', 'project.member.list');
    return { members: await store.projectMembers(req.params.name) };
  });

  // Members of a tenant (a role in each of its projects) or of one project: the same check, lookup,
  // change and answer, only the scope differs.
  const memberScopes = {
    tenant: {
      set: 'Give a user a role in every project of a tenant (tenant admin)',
      remove: 'Remove a tenant-wide role (tenant admin)',
      require: (req: FastifyRequest, name: string, action: string) => authz.requireTenant(req, name, 'members', action),
      change: (name: string, userId: string, role: Role | null) => store.setTenantRole(name, userId, role),
    },
    project: {
      set: 'Set a member’s role (project admin)',
      remove: 'Remove a member (project admin)',
      require: (req: FastifyRequest, name: string, action: string) => authz.requireProject(req, name, 'members', action),
      change: (name: string, userId: string, role: Role | null) => store.setProjectRole(name, userId, role),
    },
  } as const;
  for (const [scope, s] of Object.entries(memberScopes)) {
    const setMember = async (req: FastifyRequest, { name, user }: z.infer<typeof MemberParams>, role: Role | null) => {
      await s.require(req, name, `${scope}.member.${role ? 'set' : 'remove'}`);
      const u = await store.getUser(user);
      if (!u) throw notFound(`user "${user}"`);
      req.audit!.resource = `user:${u.name}`;
      await s.change(name, u.id, role);
      return { [scope]: name, user: u.name, role };
    };
    const path = `/v1/${scope}s/:name/members/:user`;
    app.put(path, { schema: { summary: s.set, tags: ['identity'], params: MemberParams, body: z.object({ role: RoleSchema }).strict() } }, (req) => setMember(req, req.params, req.body.role));
    app.delete(path, { schema: { summary: s.remove, tags: ['identity'], params: MemberParams } }, (req) => setMember(req, req.params, null));
  }

  app.post('/v1/tokens', { schema: { summary: 'Create an API token (shown once)', tags: ['identity'], body: CreateTokenBody } }, async (req, reply) => {
    const p = authz.principal(req);
    req.audit = { action: 'token.create' };
    let userId = p.user.id;
    if (req.body.user && req.body.user !== p.user.name && req.body.user !== p.user.id) {
      authz.requireServerAdmin(req, 'token.create');
      const u = await store.getUser(req.body.user);
      if (!u) throw notFound(`user "${req.body.user}"`);
      userId = u.id;
    }
    const expiresAt = req.body.expiresIn ? new Date(Date.now() + ms(req.body.expiresIn as ms.StringValue)) : undefined;
    const { token, info } = await store.createToken(userId, req.body.name, expiresAt);
    req.audit.resource = `token:${info.id}`;
    return reply.status(201).send({ token, ...info, note: 'the token is shown once: store it now' });
  });

  app.get('/v1/tokens', { schema: { summary: 'Your tokens (no secrets)', tags: ['identity'], querystring: z.object({ all: z.coerce.boolean().default(false) }).strict() } }, async (req) => {
    const p = authz.principal(req);
    if (req.query.all) authz.requireServerAdmin(req, 'token.list');
    return { tokens: await store.listTokens(req.query.all ? undefined : p.user.id) };
  });

  app.delete('/v1/tokens/:id', { schema: { summary: 'Revoke a token', tags: ['identity'], params: z.object({ id: z.string().min(1) }) } }, async (req) => {
    const p = authz.principal(req);
    req.audit = { action: 'token.revoke', resource: `token:${req.params.id}` };
    const t = await store.getToken(req.params.id);
    if (!t || (t.userId !== p.user.id && !p.user.serverAdmin)) throw notFound(`token "${req.params.id}"`, t ? 'someone else’s token' : undefined);
    await store.revokeToken(t.id);
    return { revoked: t.id };
  });

  app.get(
    '/v1/audit',
    {
      schema: {
        summary: 'The audit log: changes and refusals (server admins: all; project admins: their projects)',
        tags: ['identity'],
        querystring: z.object({ project: entityName.optional(), outcome: z.enum(['allowed', 'denied', 'error']).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.string().regex(/^\d+$/).optional() }).strict(),
      },
    },
    async (req) => {
      const p = authz.principal(req);
      req.audit = { action: 'audit.read' };
      let projects: string[] | undefined;
      if (req.query.project) {
        const { role } = await authz.requireProject(req, req.query.project, 'read', 'audit.read');
        if (role !== 'server-admin' && !roleAllows(role, 'members')) throw forbidden(`the audit log of "${req.query.project}" needs project admin`, `role ${role} cannot read audit`);
        projects = [req.query.project];
      } else if (!p.user.serverAdmin) {
        projects = (await store.visibleProjects(p.user.id)).filter((x) => x.role === 'admin').map((x) => x.name);
        if (projects.length === 0) throw forbidden('the audit log needs a server admin or a project admin', 'no admin role');
      }
      const entries = await store.listAudit({
        ...(projects ? { projects } : {}),
        ...(req.query.outcome ? { outcome: req.query.outcome } : {}),
        limit: req.query.limit,
        ...(req.query.before ? { beforeId: req.query.before } : {}),
      });
      return { entries };
    },
  );

}
