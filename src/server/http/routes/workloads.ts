/**
 * Workloads: launch, list, status, stop, logs. A workload's project and tenant come from its
 * search attributes (set from its spec at launch); the caller's role there decides.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/common';
import { parseWorkloadSpec, WorkloadSpecSchema } from '../../../workload/spec.js';
import { SA_PROJECT, SA_TENANT } from '../../../workflows/messages.js';
import { listWorkloadRows, rowToJSON } from '../../../client/workloadRows.js';
import { ResultQuery, WorkloadListQuery, type ResultResponse, type WorkloadListResponse } from '../../api/workloads.js';
import { forbidden, HttpError, notFound } from '../errors.js';
import { rawBodyValidator } from '../documentedBody.js';
import type { RouteContext } from '../app.js';
import type { Role } from '../../identity/roles.js';
import { roleAllows } from '../../identity/roles.js';

const WorkloadIdParams = z.object({ id: z.string().min(1).max(200) });

export function registerWorkloadRoutes({ app, deps, authz }: RouteContext): void {
  const { gpuflow, store } = deps;

  /** The workload's project, tenant and the caller's role; 404 when the caller may not see it. */
  async function resolveWorkload(req: FastifyRequest, id: string, action: string): Promise<{ project: string; tenant: string; role: Role | 'server-admin'; ownerId?: string }> {
    const p = authz.principal(req);
    req.audit = { action, resource: `workload:${id}` };
    let project: string | undefined;
    let tenant: string | undefined;
    let ownerId: string | undefined;
    try {
      const d = await gpuflow.handle(id).describe();
      if (d.type !== 'workloadWorkflow') throw notFound(`workload "${id}"`, 'not a workload');
      project = d.typedSearchAttributes.get(SA_PROJECT);
      tenant = d.typedSearchAttributes.get(SA_TENANT);
      const memoOwner = (d.memo as { owner?: unknown } | undefined)?.owner;
      // The owner travels in the memo since launches stopped writing a row; older workloads have the row.
      ownerId = typeof memoOwner === 'string' ? memoOwner : (await store.ownerOf(id))?.userId;
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw notFound(`workload "${id}"`, 'no such workload');
      throw e;
    }
    req.audit = { ...req.audit, ...(project ? { project } : {}), ...(tenant ? { tenant } : {}) };
    const proj = project ? await store.getProject(project) : undefined;
    // The spec's tenant must be the project's: a workload claiming another tenant is nobody's but the server admin's.
    const consistent = !!proj && proj.tenant === tenant;
    const owner = ownerId ? { ownerId } : {};
    if (p.user.serverAdmin) return { project: project ?? '', tenant: tenant ?? '', role: 'server-admin', ...owner };
    const role = consistent ? await store.roleInProject(p.user.id, project!) : undefined;
    if (!role) throw notFound(`workload "${id}"`, consistent ? 'no role in project' : 'project/tenant not registered');
    return { project: project!, tenant: tenant!, role, ...owner };
  }

  app.post(
    '/v1/workloads',
    {
      schema: {
        summary: 'Launch a workload',
        description: 'The body is a workload spec (the same schema as gpuflow run), or { recipe: { name, params }, ... }. Needs member in spec.project; spec.tenant defaults to the project’s tenant.',
        tags: ['workloads'],
        body: WorkloadSpecSchema,
        querystring: z.object({ workloadId: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).optional() }).strict(),
      },
      // The spec is validated by parseWorkloadSpec (recipe expansion, errors naming each field); the
      // schema above documents it. The raw body is what the client re-validates at launch.
      validatorCompiler: rawBodyValidator,
    },
    async (req, reply) => {
      const p = authz.principal(req);
      req.audit = { action: 'workload.launch' };
      const raw = req.body as unknown;
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(400, 'the body must be a workload spec (a JSON object)');
      const input = { ...(raw as Record<string, unknown>) };
      const projectName = typeof input.project === 'string' ? input.project : 'default';
      const { project } = await authz.requireProject(req, projectName, 'launch', 'workload.launch');
      if (input.tenant === undefined) input.tenant = project.tenant;
      else if (input.tenant !== project.tenant) {
        throw forbidden(`project "${project.name}" belongs to tenant "${project.tenant}", not "${String(input.tenant)}": drop tenant or set it to "${project.tenant}"`, 'tenant mismatch');
      }
      const spec = parseWorkloadSpec(input);
      // Packing reads the launcher's disk: through the server that would be the server's own disk.
      if (spec.workdir !== undefined || spec.files || spec.sync) {
        throw new HttpError(400, 'workdir/files: not accepted through the server (it would pack its own disk): launch with a direct Temporal connection (unset GPUFLOW_SERVER), or put the code in the image');
      }
      const workloadId = (req.query as { workloadId?: string }).workloadId ?? `${spec.name}-${randomUUID().slice(0, 8)}`;
      req.audit.resource = `workload:${workloadId}`;
      // The owner goes into the workflow's memo: the launch is one call to Temporal and no database
      // write, and a workload can never exist without its owner (nor an owner without its workload).
      try {
        await gpuflow.launchParsed(spec, { workloadId, owner: p.user.id });
      } catch (e) {
        if ((e as Error).name === 'WorkflowExecutionAlreadyStartedError') throw new HttpError(409, `workload "${workloadId}" already exists`);
        throw e;
      }
      return reply.status(201).send({ workloadId, project: project.name, tenant: project.tenant, ...(deps.temporalUiUrl ? { temporalUrl: temporalUiLink(deps.temporalUiUrl, gpuflow.temporal.options.namespace, workloadId) } : {}) });
    },
  );

  app.get('/v1/workloads', { schema: { summary: 'List workloads you may read', tags: ['workloads'], querystring: WorkloadListQuery } }, async (req) => {
    const q = req.query;
    req.audit = { action: 'workload.list', ...(q.project ? { project: q.project } : {}), ...(q.tenant ? { tenant: q.tenant } : {}) };
    let projects: string[] | undefined;
    if (q.project) {
      await authz.requireProject(req, q.project, 'read', 'workload.list');
      projects = [q.project];
    } else {
      const readable = await authz.readableProjects(req);
      projects = readable?.filter((p) => !q.tenant || p.tenant === q.tenant).map((p) => p.name);
    }
    if (projects && projects.length === 0) return { workloads: [] };
    const opts = { ...(projects ? { projects } : {}), ...(q.tenant ? { tenant: q.tenant } : {}), ...(q.state ? { state: q.state } : {}), ...(q.status ? { status: q.status } : {}), limit: q.limit };
    const rows = q.details ? await listWorkloadRows(gpuflow, opts) : await gpuflow.list(opts);
    return { workloads: rows.map(rowToJSON) } satisfies WorkloadListResponse;
  });

  app.get('/v1/workloads/:id', { schema: { summary: 'A workload’s status: state, offer and why, attempts, cost so far', tags: ['workloads'], params: WorkloadIdParams } }, async (req) => {
    const { role, ownerId } = await resolveWorkload(req, req.params.id, 'workload.read');
    const [status, ownerUser] = await Promise.all([gpuflow.handle(req.params.id).status(), ownerId ? store.getUser(ownerId) : undefined]);
    return {
      ...status,
      ...(ownerUser ? { owner: ownerUser.name } : {}),
      ...(deps.temporalUiUrl ? { temporalUrl: temporalUiLink(deps.temporalUiUrl, gpuflow.temporal.options.namespace, req.params.id) } : {}),
      canStop: role === 'server-admin' || roleAllows(role, 'stop-any') || (roleAllows(role, 'stop-own') && ownerId === authz.principal(req).user.id),
    };
  });

  app.post(
    '/v1/workloads/:id/stop',
    { schema: { summary: 'Stop gracefully: SIGTERM, grace, terminate the instance', tags: ['workloads'], params: WorkloadIdParams, body: z.object({ reason: z.string().max(500).optional() }).strict().optional() } },
    async (req) => {
      const { role, project, ownerId } = await resolveWorkload(req, req.params.id, 'workload.stop');
      if (role !== 'server-admin' && !roleAllows(role, 'stop-any')) {
        if (!roleAllows(role, 'stop-own')) throw forbidden(`stopping workloads in project "${project}" needs member or admin (you are ${role})`, `role ${role} cannot stop`);
        if (ownerId !== authz.principal(req).user.id) throw forbidden(`members stop their own workloads; "${req.params.id}" is someone else’s (ask a project admin)`, 'not the owner');
      }
      const state = await gpuflow.handle(req.params.id).stop(req.body?.reason ?? `stopped by ${authz.principal(req).user.name} via the server`);
      return { workloadId: req.params.id, state };
    },
  );

  app.get(
    '/v1/workloads/:id/result',
    {
      schema: {
        summary: 'Wait for the workload to end (long poll)',
        description: 'Answers once the workload ends, or after waitSeconds with state "running": ask again. A failed workload answers state "failed" and the error.',
        tags: ['workloads'],
        params: WorkloadIdParams,
        querystring: ResultQuery,
      },
    },
    async (req, reply): Promise<ResultResponse> => {
      await resolveWorkload(req, req.params.id, 'workload.result');
      const workloadId = req.params.id;
      // The long poll is cancelled when the wait ends or the caller goes away: no call outlives its request.
      const ac = new AbortController();
      let waited = false;
      const timer = setTimeout(() => {
        waited = true;
        ac.abort();
      }, req.query.waitSeconds * 1000);
      // The response closes when it is sent or when the connection drops, whichever comes first.
      reply.raw.once('close', () => ac.abort());
      try {
        const result = await gpuflow.temporal.withAbortSignal(ac.signal, () => gpuflow.handle(workloadId).result());
        return { workloadId, state: 'completed', result };
      } catch (e) {
        if (ac.signal.aborted) {
          if (waited) return { workloadId, state: 'running' };
          throw new HttpError(499, 'the caller went away');
        }
        return { workloadId, state: 'failed', error: rootCause(e as Error) };
      } finally {
        clearTimeout(timer);
      }
    },
  );

  app.get(
    '/v1/workloads/:id/logs',
    { schema: { summary: 'The job’s last output lines (read over SSH)', tags: ['workloads'], params: WorkloadIdParams, querystring: z.object({ lines: z.coerce.number().int().min(1).max(10_000).default(100) }).strict() } },
    async (req) => {
      await resolveWorkload(req, req.params.id, 'workload.logs');
      return { workloadId: req.params.id, logs: await gpuflow.handle(req.params.id).logs(req.query.lines) };
    },
  );
}

export function temporalUiLink(base: string, namespace: string, workloadId: string): string {
  return `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workloadId)}`;
}

/** The innermost message of a workflow failure (ActivityFailure → ApplicationFailure → …). */
function rootCause(e: Error): string {
  let cur: Error = e;
  while ((cur as { cause?: Error }).cause) cur = (cur as { cause?: Error }).cause!;
  return cur.message || e.message;
}
