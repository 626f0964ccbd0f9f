/**
 * The gpuflow HTTP server (Fastify): bearer-token authentication, per-project authorization, an
 * audit record for every change and every refusal, and an OpenAPI document generated from the
 * same zod schemas the CLI and embedding API validate with.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { GpuflowClient } from '../../client/gpuflowClient.js';
import type { IdentityStore } from '../identity/store.js';
import { Authorizer } from './authorize.js';
import { errorHandler } from './errors.js';
import './requestContext.js';
import { registerWorkloadRoutes } from './routes/workloads.js';
import { registerIdentityRoutes } from './routes/identity.js';
import { registerBudgetRoutes } from './routes/budgets.js';
import { registerCatalogRoutes } from './routes/catalog.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerLiveRoutes } from './routes/live.js';
import { registerDashboard } from './dashboard.js';
import type { SpendTracker } from '../live/spendTracker.js';

export interface ServerDeps {
  store: IdentityStore;
  gpuflow: GpuflowClient;
  /** The worker's connections.yaml: provider connections and live offers. */
  connectionsFile?: string;
  /** Temporal Web UI base URL, for links to workloads. */
  temporalUiUrl?: string;
  /** Extra recipe directories next to the built-in ones. */
  recipeDirs?: string[];
  /** Live spend (metrics, dashboard events); without it /metrics and /v1/live are absent. */
  tracker?: SpendTracker;
  /** pino options or false (tests). */
  logger?: boolean | object;
}

export type ServerApp = FastifyInstance;
export type ZodApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;
export interface RouteContext {
  app: ZodApp;
  deps: ServerDeps;
  authz: Authorizer;
}

export async function buildServerApp(deps: ServerDeps, extend?: (app: FastifyInstance, ctx: RouteContext) => Promise<void> | void): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // Tokens never reach the logs.
    ...(deps.logger ? { logger: { ...(typeof deps.logger === 'object' ? deps.logger : {}), redact: ['req.headers.authorization', 'req.headers.cookie'] } } : {}),
    bodyLimit: 1024 * 1024,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'gpuflow server', version: '0.1.0', description: 'Run GPU workloads across clouds: workloads, budgets, offers, recipes, schedules, identity and audit.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token (gpf_…), from POST /v1/tokens or gpuflow login' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  const authz = new Authorizer(deps.store);

  app.addHook('onRequest', async (req) => {
    const h = req.headers.authorization;
    // EventSource cannot send headers: the dashboard's live stream passes the token as ?access_token.
    const q = (req.query as Record<string, unknown> | undefined)?.access_token;
    const token = h?.startsWith('Bearer ') ? h.slice(7) : typeof q === 'string' && req.url.startsWith('/v1/events') ? q : undefined;
    if (token) {
      const p = await deps.store.authenticate(token);
      if (!p) {
        req.audit = { action: 'authenticate' };
        req.auditDenial = 'invalid, expired or revoked token';
        throw Object.assign(new Error('invalid, expired or revoked token: log in again (gpuflow login)'), { statusCode: 401 });
      }
      req.principal = p;
    }
    const path = req.url.split('?')[0]!;
    if (!req.principal && path.startsWith('/v1/')) {
      req.audit = { action: 'authenticate' };
      req.auditDenial = 'no token';
      throw Object.assign(new Error('authentication required: send Authorization: Bearer <token> (gpuflow login)'), { statusCode: 401 });
    }
  });

  // One record per change, and per refusal of anything.
  app.addHook('onResponse', async (req, reply) => {
    if (!req.audit) return;
    const status = reply.statusCode;
    const denied = status === 401 || status === 403 || (status === 404 && !!req.auditDenial);
    if (req.method === 'GET' && !denied) return;
    await deps.store
      .audit({
        ...(req.principal ? { userId: req.principal.user.id, tokenId: req.principal.tokenId } : {}),
        method: req.method,
        path: req.url.split('?')[0]!,
        action: req.audit.action,
        ...(req.audit.resource ? { resource: req.audit.resource } : {}),
        ...(req.audit.project ? { project: req.audit.project } : {}),
        ...(req.audit.tenant ? { tenant: req.audit.tenant } : {}),
        outcome: denied ? 'denied' : status >= 400 ? 'error' : 'allowed',
        status,
        ...(req.auditDenial ? { reason: req.auditDenial } : {}),
        ip: req.ip,
      })
      .catch((e: unknown) => req.log.error({ err: e }, 'audit write failed'));
  });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const typed = app.withTypeProvider<ZodTypeProvider>();
  const ctx: RouteContext = { app: typed, deps, authz };
  registerWorkloadRoutes(ctx);
  registerIdentityRoutes(ctx);
  registerBudgetRoutes(ctx);
  registerCatalogRoutes(ctx);
  registerScheduleRoutes(ctx);
  registerConnectionRoutes(ctx);
  registerLiveRoutes(ctx);
  await registerDashboard(app);
  if (extend) await extend(app, ctx);
  return app;
}
