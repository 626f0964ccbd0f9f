/** Budgets (committed / reserved / left, alerts) and cost reports, per project and tenant. */
import { z } from 'zod';
import { entityName } from '../../api/names.js';
import { BudgetConfigInputSchema, BUDGET_PERIODS, parseBudgetKey } from '../../../budget/config.js';
import type { CostRow } from '../../../budget/report.js';
import { totals } from '../../../budget/report.js';
import { rawBodyValidator } from '../documentedBody.js';
import { forbidden, HttpError } from '../errors.js';
import type { RouteContext } from '../app.js';

const ScopeParams = z.object({ scope: z.enum(['project', 'tenant', 'connection']), name: entityName });
export const CostQuery = z
  .object({
    project: z.string().optional(),
    tenant: z.string().optional(),
    by: z.enum(BUDGET_PERIODS).default('day'),
    since: z.string().optional().describe('a date (2026-09-01) or a span back from now ("7d")'),
  })
  .strict();

export function registerBudgetRoutes({ app, deps, authz }: RouteContext): void {
  const { gpuflow } = deps;

  async function requireScope(req: Parameters<typeof authz.principal>[0], scope: 'project' | 'tenant' | 'connection', name: string, perm: 'read' | 'budget', action: string) {
    if (scope === 'project') await authz.requireProject(req, name, perm, action);
    else if (scope === 'tenant') await authz.requireTenant(req, name, perm, action);
    else authz.requireServerAdmin(req, action);
    req.audit!.resource = `budget:${scope}:${name}`;
  }

  app.get('/v1/budgets', { schema: { summary: 'Budgets you may read: committed, reserved, left, alerts', tags: ['budgets'] } }, async (req) => {
    const p = authz.principal(req);
    const all = await gpuflow.budgets.list();
    if (p.user.serverAdmin) return { budgets: all };
    const projects = new Set((await authz.readableProjects(req))!.map((x) => x.name));
    const out = [];
    for (const b of all) {
      const { scope, name } = parseBudgetKey(b.key);
      if (scope === 'project' && projects.has(name)) out.push(b);
      else if (scope === 'tenant' && (await deps.store.roleInTenant(p.user.id, name))) out.push(b);
    }
    return { budgets: out };
  });

  app.get('/v1/budgets/:scope/:name', { schema: { summary: 'One budget', tags: ['budgets'], params: ScopeParams } }, async (req) => {
    await requireScope(req, req.params.scope, req.params.name, 'read', 'budget.read');
    const st = await gpuflow.budgets.status(`${req.params.scope}:${req.params.name}`);
    if (!st) throw new HttpError(404, `no budget or spend recorded for ${req.params.scope} "${req.params.name}"`);
    return st;
  });

  app.put(
    '/v1/budgets/:scope/:name',
    { schema: { summary: 'Set a project or tenant budget (admin)', tags: ['budgets'], params: ScopeParams, body: BudgetConfigInputSchema }, validatorCompiler: rawBodyValidator },
    async (req) => {
      if (req.params.scope === 'connection') throw new HttpError(400, 'a connection’s spending cap is set in connections.yaml (spendingCap: { amount, currency, period })');
      await requireScope(req, req.params.scope, req.params.name, 'budget', 'budget.set');
      return gpuflow.budgets.set(`${req.params.scope}:${req.params.name}`, req.body as never);
    },
  );

  app.delete('/v1/budgets/:scope/:name', { schema: { summary: 'Remove a cap (the ledger stays)', tags: ['budgets'], params: ScopeParams } }, async (req) => {
    if (req.params.scope === 'connection') throw new HttpError(400, 'a connection’s spending cap is set in connections.yaml');
    await requireScope(req, req.params.scope, req.params.name, 'budget', 'budget.remove');
    return gpuflow.budgets.set(`${req.params.scope}:${req.params.name}`, null);
  });

  app.get('/v1/costs', { schema: { summary: 'Costs per day, week or month, per project (or tenant)', tags: ['budgets'], querystring: CostQuery } }, async (req) => {
    const q = req.query;
    const base = { by: q.by, ...(q.since ? { since: q.since } : {}) };
    if (q.project) {
      await authz.requireProject(req, q.project, 'read', 'cost.read');
      if (q.tenant && req.audit?.tenant !== q.tenant) throw forbidden(`project "${q.project}" is not in tenant "${q.tenant}"`, 'tenant mismatch');
      return gpuflow.budgets.cost({ ...base, project: q.project });
    }
    if (q.tenant) {
      await authz.requireTenant(req, q.tenant, 'read', 'cost.read');
      return gpuflow.budgets.cost({ ...base, tenant: q.tenant });
    }
    req.audit = { action: 'cost.read' };
    const readable = await authz.readableProjects(req);
    if (!readable) return gpuflow.budgets.cost(base);
    const reports = await Promise.all(readable.map((p) => gpuflow.budgets.cost({ ...base, project: p.name })));
    const rows: CostRow[] = reports.flatMap((r) => r.rows).sort((a, b) => a.start.localeCompare(b.start) || a.scope.localeCompare(b.scope));
    return { by: q.by, ...(reports[0]?.since ? { since: reports[0].since } : {}), rows, totals: totals(rows) };
  });
}
