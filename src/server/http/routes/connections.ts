/**
 * Provider connections: listed without secrets; an API key can be written (into the encrypted
 * credential store the worker reads) but never read back.
 */
import { z } from 'zod';
import { loadConnections } from '../../../config/connections.js';
import { resolveStoreKey } from '../../../config/credentials/key.js';
import { describeSecretSource } from '../../../config/credentials/lookup.js';
import { Secret } from '../../../config/credentials/secret.js';
import { CredentialStore } from '../../../config/credentials/store.js';
import { HttpError, notFound } from '../errors.js';
import type { RouteContext } from '../app.js';

export function registerConnectionRoutes({ app, deps, authz }: RouteContext): void {
  const connections = () => {
    if (!deps.connectionsFile) throw new HttpError(503, 'the server has no provider connections: start it with --connections FILE');
    return loadConnections(deps.connectionsFile);
  };

  app.get('/v1/connections', { schema: { summary: 'Provider connections (never their secrets)', tags: ['connections'] } }, async (req) => {
    authz.principal(req);
    return {
      connections: connections().map((c) => ({
        name: c.name,
        kind: c.kind,
        ...('url' in c && c.url ? { url: c.url } : {}),
        secret: describeSecretSource(c),
      })),
    };
  });

  app.put(
    '/v1/connections/:name/credential',
    { schema: { summary: 'Write a connection’s API key into the encrypted credential store (server admin; write-only)', tags: ['connections'], params: z.object({ name: z.string().min(1) }), body: z.object({ apiKey: z.string().min(8, 'apiKey looks too short') }).strict() } },
    async (req) => {
      authz.requireServerAdmin(req, 'connection.credential.set');
      req.audit!.resource = `connection:${req.params.name}`;
      const c = connections().find((x) => x.name === req.params.name);
      if (!c) throw notFound(`connection "${req.params.name}"`);
      if (!('credentialRef' in c) || !c.credentialRef) throw new HttpError(400, `connection "${c.name}" reads its secret from ${describeSecretSource(c)}: set credentialRef in connections.yaml to store it encrypted`);
      const store = CredentialStore.open(resolveStoreKey({ create: true }));
      store.set(c.credentialRef, new Secret(req.body.apiKey), c.kind);
      return { connection: c.name, stored: c.credentialRef };
    },
  );
}
