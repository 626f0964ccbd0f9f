/**
 * An Azure connection in connections.yaml (`kind: azure`, `regions`, `resourceGroup`, `endpoint` …),
 * and the adapter the registry makes its credential with. The secret (file or store entry) is the
 * service principal JSON: `{"tenantId","clientId","clientSecret","subscriptionId"}`, or the output
 * of `az ad sp create-for-rbac` (appId, password, tenant) with `subscriptionId` given here.
 */
import { z } from 'zod';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { apiKeyConnectionFields } from '../adapter/connectionFields.js';
import { parseAzureServicePrincipal } from './api.js';
import { AzureCredential } from './credential.js';

export const AzureConnectionSchema = z
  .object({
    kind: z.literal('azure'),
    ...apiKeyConnectionFields,
    regions: z.array(z.string().min(1)).min(1, 'regions must list at least one Azure region such as eastus'),
    resourceGroup: z.string().min(1, 'resourceGroup must name an existing resource group (az group create -n gpuflow -l eastus)'),
    /** The subscription, when the secret (az ad sp create-for-rbac output) does not carry it. */
    subscriptionId: z.string().optional(),
    /** ARM's root; tests point it at the replica. */
    endpoint: z.url('endpoint must be a URL such as https://management.azure.com').optional(),
    authorityHost: z.url('authorityHost must be a URL such as https://login.microsoftonline.com').optional(),
    armAudience: z.url('armAudience must be a URL such as https://management.azure.com').optional(),
    caFile: z.string().min(1).optional(),
    catalogFile: z.string().min(1).optional(),
    image: z.string().optional(),
    /** How often a long-running operation is polled when Azure names no Retry-After (default 2 s). */
    pollIntervalMs: z.number().int().positive().optional(),
    /** How often a running VM is polled (default 5 s). */
    instancePollMs: z.number().int().positive().optional(),
  })
  .strict();
export type AzureConnection = z.output<typeof AzureConnectionSchema>;

function azureCredentialFromConnection(c: AzureConnection, secret: string): AzureCredential {
  return new AzureCredential({
    refId: c.name,
    servicePrincipal: parseAzureServicePrincipal(secret, c.subscriptionId),
    regions: c.regions,
    resourceGroup: c.resourceGroup,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.authorityHost ? { authorityHost: c.authorityHost } : {}),
    ...(c.armAudience ? { armAudience: c.armAudience } : {}),
    ...(c.caFile ? { caFile: c.caFile } : {}),
    ...(c.catalogFile ? { catalogFile: c.catalogFile } : {}),
    ...(c.image ? { image: c.image } : {}),
    ...(c.pollIntervalMs ? { pollIntervalMs: c.pollIntervalMs } : {}),
    ...(c.instancePollMs ? { instancePollMs: c.instancePollMs } : {}),
    ...(c.testReplica ? { testReplica: true } : {}),
  });
}

export const azureAdapter = defineProviderAdapter({
  kind: 'azure',
  connectionSchema: AzureConnectionSchema,
  secretFileField: 'apiKeyFile',
  urlField: 'endpoint',
  // Azure bills VMs per second (azure.microsoft.com/pricing/details/virtual-machines/linux: "billed per second").
  defaultBilling: { granularity: 'second', minimumSeconds: 0 },
  credential: (c, secret) => azureCredentialFromConnection(c, secret),
});
