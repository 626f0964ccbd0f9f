/**
 * A Google Cloud connection in connections.yaml (`kind: gcp`, `regions`, `project`, `endpoint` …),
 * and the adapter the registry makes its credential with. The secret source is optional, as for
 * AWS: without `apiKeyFile`/`credentialRef`, Application Default Credentials are used (and
 * `project` is required). With one, the secret is a service-account key JSON file.
 */
import { z } from 'zod';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { apiKeyConnectionFields } from '../adapter/connectionFields.js';
import { parseGcpServiceAccountKey } from './api.js';
import { GcpCredential } from './credential.js';

export const GcpConnectionSchema = z
  .object({
    kind: z.literal('gcp'),
    ...apiKeyConnectionFields,
    regions: z.array(z.string().min(1)).min(1, 'regions must list at least one Google Cloud region such as us-central1'),
    /** The project; default: the key's project_id (required without a key, with ADC). */
    project: z.string().min(1).optional(),
    /** Compute's API root; tests point it at the replica. */
    endpoint: z.url('endpoint must be a URL such as https://compute.googleapis.com').optional(),
    catalogFile: z.string().min(1).optional(),
    image: z.string().optional(),
  })
  .strict();
export type GcpConnection = z.output<typeof GcpConnectionSchema>;

/** The credential of a connection; `secret` is the key file's or store entry's text, if it names one. */
function gcpCredentialFromConnection(c: GcpConnection, secret: string | undefined): GcpCredential {
  return new GcpCredential({
    refId: c.name,
    regions: c.regions,
    ...(secret !== undefined ? { key: parseGcpServiceAccountKey(secret) } : {}),
    ...(c.project ? { project: c.project } : {}),
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.catalogFile ? { catalogFile: c.catalogFile } : {}),
    ...(c.image ? { image: c.image } : {}),
    ...(c.testReplica ? { testReplica: true } : {}),
  });
}

export const gcpAdapter = defineProviderAdapter({
  kind: 'gcp',
  connectionSchema: GcpConnectionSchema,
  secretFileField: 'apiKeyFile',
  urlField: 'endpoint',
  // Compute Engine bills VMs (and GPUs) per second with a 1-minute minimum (cloud.google.com/compute/vm-instance-pricing).
  defaultBilling: { granularity: 'second', minimumSeconds: 60 },
  credential: (c, secret) => gcpCredentialFromConnection(c, secret),
  // No secret source: Application Default Credentials.
  credentialWithoutSecret: (c) => gcpCredentialFromConnection(c, undefined),
});
