/**
 * Serves the built dashboard (dist/dashboard, from `npm run build`) at /. From a source checkout
 * (tsx) and from the compiled package the directory is found relative to this module.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export function dashboardDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/server/http → dist/dashboard; dist/server/http → dist/dashboard
  return [join(here, '..', '..', '..', 'dist', 'dashboard'), join(here, '..', '..', 'dashboard')].find((d) => existsSync(join(d, 'index.html')));
}

export async function registerDashboard(app: FastifyInstance, dir = dashboardDir()): Promise<void> {
  if (!dir) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.status(503).type('text/plain').send('the dashboard is not built: run npm run build (or npm run build:dashboard)'));
    return;
  }
  await app.register(fastifyStatic, { root: dir, prefix: '/', index: ['index.html'], cacheControl: true, maxAge: '5m' });
}
