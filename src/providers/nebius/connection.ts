/**
 * A Nebius AI Cloud connection in connections.yaml (`kind: nebius`, `projects`, `endpoint` …);
 * the secret (apiKeyFile / credentialRef) is an IAM access token.
 */
import { z } from 'zod';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { apiKeyConnectionFields } from '../adapter/connectionFields.js';
import { NebiusCredential } from './credential.js';

export const NebiusConnectionSchema = z
  .object({
    kind: z.literal('nebius'),
    ...apiKeyConnectionFields,
    projects: z.record(z.string(), z.object({ projectId: z.string(), subnetId: z.string() }).strict()),
    endpoint: z.string().min(1).optional(),
    tls: z.boolean().optional(),
    priceFile: z.string().min(1).optional(),
    imageFamily: z.string().optional(),
  })
  .strict();
export type NebiusConnection = z.output<typeof NebiusConnectionSchema>;

export const nebiusAdapter = defineProviderAdapter({
  kind: 'nebius',
  connectionSchema: NebiusConnectionSchema,
  secretFileField: 'apiKeyFile',
  urlField: 'endpoint',
  // Per second, no minimum: an assumption not checked here against Nebius's billing terms; a connection's `billing` overrides it.
  defaultBilling: { granularity: 'second', minimumSeconds: 0 },
  credential: (c, secret) =>
    new NebiusCredential({
      refId: c.name,
      iamToken: secret.trim(),
      projects: c.projects,
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(c.tls !== undefined ? { tls: c.tls } : {}),
      ...(c.priceFile ? { priceFile: c.priceFile } : {}),
      ...(c.imageFamily ? { imageFamily: c.imageFamily } : {}),
      ...(c.testReplica ? { testReplica: true } : {}),
    }),
});
