/**
 * Starting the gpuflow server: open (and migrate) the database, connect to Temporal with the
 * client code the CLI uses, bootstrap the first admin, listen. Used by `gpuflow server`,
 * `gpuflow dev` and the tests.
 */
import type { FastifyInstance } from 'fastify';
import { GpuflowClient } from '../client/gpuflowClient.js';
import type { TemporalConfig } from '../config/temporalConfig.js';
import { buildServerApp, type RouteContext } from './http/app.js';
import { IdentityStore } from './identity/store.js';
import { openDatabase, type SqlDatabase } from './storage/database.js';
import { migrate } from './storage/migrations.js';
import { SpendTracker } from './live/spendTracker.js';

export interface ServerOptions {
  /** postgres://… or pglite:<dir> or pglite:memory. */
  database: string;
  temporal?: Partial<TemporalConfig>;
  /** Reuse a connected client instead (tests, `gpuflow dev`). */
  gpuflow?: GpuflowClient;
  host?: string;
  port?: number;
  connectionsFile?: string;
  temporalUiUrl?: string;
  recipeDirs?: string[];
  logger?: boolean | object;
  /** How often live spend is polled (default 2 s); 0 turns live spend and /metrics off. */
  livePollMs?: number;
  /** Extra routes (metrics, dashboard) registered on the same app. */
  extend?: (app: FastifyInstance, ctx: RouteContext) => Promise<void> | void;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: IdentityStore;
  db: SqlDatabase;
  gpuflow: GpuflowClient;
  tracker?: SpendTracker;
  /** Set only when this start created the first admin: print it once, it is not stored. */
  bootstrapToken?: string;
  close(): Promise<void>;
}

/** With no users yet: an "admin" server admin, a "default" tenant and project, and a token for it. */
export async function bootstrapAdmin(store: IdentityStore): Promise<string | undefined> {
  if ((await store.countUsers()) > 0) return undefined;
  const admin = await store.createUser({ name: 'admin', serverAdmin: true });
  if (!(await store.tenantExists('default'))) await store.createTenant('default');
  if (!(await store.getProject('default'))) await store.createProject('default', 'default');
  await store.setTenantRole('default', admin.id, 'admin');
  return (await store.createToken(admin.id, 'bootstrap')).token;
}

export async function startGpuflowServer(opts: ServerOptions): Promise<RunningServer> {
  const db = await openDatabase(opts.database);
  await migrate(db);
  const store = new IdentityStore(db);
  const bootstrapToken = await bootstrapAdmin(store);
  const ownClient = !opts.gpuflow;
  const gpuflow = opts.gpuflow ?? (await GpuflowClient.connect(opts.temporal ?? {}));
  const tracker = opts.livePollMs === 0 ? undefined : new SpendTracker(gpuflow, { intervalMs: opts.livePollMs ?? 2000 });
  const app = await buildServerApp(
    {
      store,
      gpuflow,
      ...(tracker ? { tracker } : {}),
      ...(opts.connectionsFile ? { connectionsFile: opts.connectionsFile } : {}),
      ...(opts.temporalUiUrl ? { temporalUiUrl: opts.temporalUiUrl } : {}),
      ...(opts.recipeDirs ? { recipeDirs: opts.recipeDirs } : {}),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    },
    opts.extend,
  );
  const address = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  tracker?.on('error', (e: unknown) => app.log.warn({ err: e }, 'live spend poll failed'));
  tracker?.start();
  return {
    url: address,
    app,
    store,
    db,
    gpuflow,
    ...(tracker ? { tracker } : {}),
    ...(bootstrapToken ? { bootstrapToken } : {}),
    async close() {
      await tracker?.stop();
      await app.close();
      if (ownClient) await gpuflow.close();
      await db.close();
    },
  };
}
