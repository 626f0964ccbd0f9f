/** Recurring workloads (Temporal Schedules), authorized against the scheduled spec's project. */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ScheduleNotFoundError } from '@temporalio/client';
import { planSchedule, WorkloadScheduleSchema } from '../../../schedules/schedule.js';
import { roleAllows } from '../../identity/roles.js';
import { rawBodyValidator } from '../documentedBody.js';
import { forbidden, HttpError, notFound } from '../errors.js';
import type { RouteContext } from '../app.js';

const IdParams = z.object({ id: z.string().regex(/^[a-z0-9-]{1,63}$/) });

export function registerScheduleRoutes({ app, deps, authz }: RouteContext): void {
  const { gpuflow, store } = deps;

  async function resolveSchedule(req: FastifyRequest, id: string, action: string) {
    req.audit = { action, resource: `schedule:${id}` };
    let project: string | undefined;
    try {
      project = (await gpuflow.schedules.handle(id).describe()).project;
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) throw notFound(`schedule "${id}"`, 'no such schedule');
      throw e;
    }
    if (!project) throw notFound(`schedule "${id}"`, 'schedule without project');
    try {
      return await authz.requireProject(req, project, 'read', action);
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) throw notFound(`schedule "${id}"`, e.denial);
      throw e;
    }
  }

  app.get('/v1/schedules', { schema: { summary: 'Schedules of projects you may read', tags: ['schedules'], querystring: z.object({ project: z.string().optional() }).strict() } }, async (req) => {
    if (req.query.project) {
      await authz.requireProject(req, req.query.project, 'read', 'schedule.list');
      return { schedules: await gpuflow.schedules.list({ project: req.query.project }) };
    }
    const readable = await authz.readableProjects(req);
    const all = await gpuflow.schedules.list();
    const names = readable && new Set(readable.map((p) => p.name));
    return { schedules: names ? all.filter((s) => s.project && names.has(s.project)) : all };
  });

  app.post('/v1/schedules', { schema: { summary: 'Create a schedule (member of the workload’s project)', tags: ['schedules'], body: WorkloadScheduleSchema }, validatorCompiler: rawBodyValidator }, async (req, reply) => {
    authz.principal(req);
    req.audit = { action: 'schedule.create' };
    const raw = req.body as Record<string, unknown> | null;
    if (!raw || typeof raw !== 'object') throw new HttpError(400, 'the body must be a schedule: { workload, cron | every, ... }');
    const workload = raw.workload && typeof raw.workload === 'object' ? { ...(raw.workload as Record<string, unknown>) } : raw.workload;
    const projectName = workload && typeof workload === 'object' && typeof (workload as Record<string, unknown>).project === 'string' ? String((workload as Record<string, unknown>).project) : 'default';
    const { project } = await authz.requireProject(req, projectName, 'launch', 'schedule.create');
    if (workload && typeof workload === 'object') {
      const w = workload as Record<string, unknown>;
      if (w.tenant === undefined) w.tenant = project.tenant;
      else if (w.tenant !== project.tenant) throw forbidden(`project "${project.name}" belongs to tenant "${project.tenant}"`, 'tenant mismatch');
    }
    const input = { ...raw, workload };
    planSchedule(input, gpuflow.taskQueue);
    const h = await gpuflow.schedules.create(input as never);
    req.audit.resource = `schedule:${h.scheduleId}`;
    return reply.status(201).send(await h.describe());
  });

  app.get('/v1/schedules/:id', { schema: { summary: 'One schedule', tags: ['schedules'], params: IdParams } }, async (req) => {
    await resolveSchedule(req, req.params.id, 'schedule.read');
    return gpuflow.schedules.handle(req.params.id).describe();
  });

  for (const op of ['pause', 'unpause', 'trigger', 'delete'] as const) {
    const handler = async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const { role } = await resolveSchedule(req, req.params.id, `schedule.${op}`);
      if (role !== 'server-admin' && !roleAllows(role, op === 'trigger' ? 'launch' : 'stop-any')) throw forbidden(`${op} needs ${op === 'trigger' ? 'member' : 'admin'} in the project (you are ${role})`, `role ${role} cannot ${op}`);
      const h = gpuflow.schedules.handle(req.params.id);
      await (op === 'delete' ? h.delete() : op === 'trigger' ? h.trigger() : h[op]());
      return { scheduleId: req.params.id, done: op };
    };
    if (op === 'delete') app.delete('/v1/schedules/:id', { schema: { summary: 'Delete a schedule (project admin)', tags: ['schedules'], params: IdParams } }, handler);
    else app.post(`/v1/schedules/:id/${op}`, { schema: { summary: `${op} a schedule`, tags: ['schedules'], params: IdParams } }, handler);
  }
  void store;
}
