/**
 * Live spend for the dashboard and Prometheus: GET /metrics (public, like most exporters; bind the
 * server to a private address or put it behind the proxy that guards it), GET /v1/live (the
 * snapshot, filtered to what the caller may read) and GET /v1/events (the same as server-sent
 * events, one per poll).
 */
import type { FastifyRequest } from 'fastify';
import { parseBudgetKey } from '../../../budget/config.js';
import type { SpendSnapshot } from '../../live/spendTracker.js';
import { sumDecimal } from '../../live/spendTracker.js';
import { createMetricsRegistry } from '../../live/metrics.js';
import type { RouteContext } from '../app.js';

export function registerLiveRoutes({ app, deps, authz }: RouteContext): void {
  const tracker = deps.tracker;
  if (!tracker) return;
  const metrics = createMetricsRegistry(tracker);

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    metrics.refresh();
    return reply.header('content-type', metrics.contentType).send(await metrics.metrics());
  });

  /** The snapshot restricted to the caller's projects (and tenants it has a tenant role in). */
  async function visibleSnapshot(req: FastifyRequest, s: SpendSnapshot) {
    const p = authz.principal(req);
    const readable = await authz.readableProjects(req);
    const projects = readable && new Map(readable.map((x) => [x.name, x]));
    const tenantRoles = new Set<string>();
    if (readable) for (const t of new Set(s.budgets.map((b) => parseBudgetKey(b.key)).filter((k) => k.scope === 'tenant').map((k) => k.name))) if (await deps.store.roleInTenant(p.user.id, t)) tenantRoles.add(t);
    const workloads = projects ? s.workloads.filter((w) => projects.get(w.project)?.tenant === w.tenant) : s.workloads;
    const budgets = projects
      ? s.budgets.filter((b) => {
          const k = parseBudgetKey(b.key);
          return (k.scope === 'project' && projects.has(k.name)) || (k.scope === 'tenant' && tenantRoles.has(k.name));
        })
      : s.budgets;
    const roles = readable ? Object.fromEntries(readable.map((x) => [x.name, x.role])) : undefined;
    const group = (key: 'project' | 'tenant' | 'provider') => {
      const m = new Map<string, { rates: string[]; costs: string[]; running: number }>();
      for (const w of workloads) {
        const k = (key === 'provider' ? w.provider : w[key]) ?? 'none';
        const e = m.get(k) ?? { rates: [], costs: [], running: 0 };
        e.rates.push(w.ratePerHour);
        e.costs.push(w.costNow);
        if (w.ratePerHour !== '0') e.running++;
        m.set(k, e);
      }
      return [...m].map(([name, e]) => ({ name, ratePerHour: sumDecimal(e.rates), costSoFar: sumDecimal(e.costs), billing: e.running }));
    };
    return {
      at: s.at,
      ratePerHour: sumDecimal(workloads.map((w) => w.ratePerHour)),
      costSoFar: sumDecimal(workloads.map((w) => w.costNow)),
      byProject: group('project'),
      byTenant: group('tenant'),
      byProvider: group('provider'),
      workloads,
      budgets,
      alerts: budgets.flatMap((b) => b.alerts.map((a) => ({ budget: b.key, ...a }))),
      ...(roles ? { roles } : { roles: 'server-admin' }),
    };
  }

  app.get('/v1/live', { schema: { summary: 'Live spend: $/h burning, running workloads with cost so far, budgets and alerts', tags: ['live'] } }, async (req) => visibleSnapshot(req, tracker.snapshot()));

  app.get('/v1/events', { schema: { summary: 'The live snapshot as server-sent events (token in Authorization or ?access_token=)', tags: ['live'] } }, async (req, reply) => {
    authz.principal(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const send = async (s: SpendSnapshot) => {
      try {
        res.write(`event: spend\ndata: ${JSON.stringify(await visibleSnapshot(req, s))}\n\n`);
      } catch (e) {
        req.log.warn({ err: e }, 'event stream write failed');
      }
    };
    const onUpdate = (s: SpendSnapshot) => void send(s);
    tracker.on('update', onUpdate);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.raw.on('close', () => {
      tracker.off('update', onUpdate);
      clearInterval(ping);
    });
    await send(tracker.snapshot());
  });
}
