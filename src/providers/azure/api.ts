/**
 * Azure wire facts the adapter relies on, from Azure's REST API specs (github.com/Azure/azure-rest-api-specs:
 * specification/compute/resource-manager/Microsoft.Compute, api-version 2026-03-01, the version
 * @azure/arm-compute 24 is generated from; Microsoft.Network 2025-05-01 for @azure/arm-network 36)
 * and Microsoft identity platform's client-credentials flow. The SDKs serialize requests and parse
 * the JSON; this file holds the names and values the adapter reads, and the service principal.
 */
import { z } from 'zod';

export const AZURE_PROVIDER_ID = 'azure';

/** Azure Resource Manager in the public cloud (`endpoint` of the ARM clients). */
export const ARM_ENDPOINT = 'https://management.azure.com';
/** Microsoft Entra ID in the public cloud (`authorityHost` of @azure/identity). */
export const AUTHORITY_HOST = 'https://login.microsoftonline.com';

/**
 * The default image: Microsoft's HPC image for Ubuntu 22.04 with the NVIDIA driver, CUDA, NCCL and
 * InfiniBand stack ("microsoft-dsvm:ubuntu-hpc:2204:latest", Azure's "HPC VM images" page, the image
 * Azure documents for ND/NC GPU sizes). Overridable per connection as `publisher:offer:sku:version`.
 */
export const DEFAULT_IMAGE = 'microsoft-dsvm:ubuntu-hpc:2204:latest';
/** The admin user the adapter creates (`osProfile.adminUsername`); its key is the workload's. */
export const DEFAULT_SSH_USER = 'gpuflow';

/** Tag keys gpuflow writes on every VM (Azure tags: key ≤ 512, value ≤ 256 characters, at most 50). */
export const AZURE_TAG_KEYS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  name: 'gpuflow-name',
} as const;
export const MAX_TAGS = 50;
export const TAG_KEY_RE = /^[^<>%&\\?/]{1,512}$/;
export const MAX_TAG_VALUE = 256;

/**
 * Test only: tags the replica (test/replicas/azure) puts on VMs whose "machine" is an sshd of the
 * test user on a non-22 port. Real Azure has no such tags; the adapter reads them only with `testReplica: true`.
 */
export const REPLICA_TAG_KEYS = { sshPort: 'gpuflow-replica-ssh-port', sshUser: 'gpuflow-replica-ssh-user' } as const;

/** VM names (Linux): 1-64 letters, digits, '-', '_', '.'; not ending in '.' or '-' (Azure naming rules for Microsoft.Compute). */
export const VM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$/;

/** `instanceView.statuses[].code` power states (Azure "States and billing status of Azure Virtual Machines"). */
export const POWER_STATES = ['starting', 'running', 'stopping', 'stopped', 'deallocating', 'deallocated', 'unknown'] as const;
export type PowerState = (typeof POWER_STATES)[number];

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** What each field of the service principal is, and where `az` shows it (messages of the schema). */
const SP_FIELDS = {
  tenantId: 'tenantId must be the Microsoft Entra tenant ID (a GUID, "tenant" in az ad sp create-for-rbac output)',
  clientId: 'clientId must be the application (client) ID of the service principal (a GUID, "appId" in az ad sp create-for-rbac output)',
  clientSecret: 'clientSecret must be the service principal\'s client secret ("password" in az ad sp create-for-rbac output)',
  subscriptionId: 'subscriptionId must be the Azure subscription ID (a GUID, az account show --query id)',
} as const;
const guid = (message: string) => z.string({ message }).regex(GUID, message);

/**
 * A service principal as `az ad sp create-for-rbac` prints it (appId, password, tenant) plus the
 * subscription, in the secret file or credential-store entry. Both the CLI's names and the SDK's
 * (clientId, clientSecret, tenantId) are accepted.
 */
export const AzureServicePrincipalSchema = z
  .object({
    tenantId: guid(SP_FIELDS.tenantId),
    clientId: guid(SP_FIELDS.clientId),
    clientSecret: z.string({ message: SP_FIELDS.clientSecret }).min(1, SP_FIELDS.clientSecret),
    subscriptionId: guid(SP_FIELDS.subscriptionId),
  })
  .strict();
export type AzureServicePrincipal = z.infer<typeof AzureServicePrincipalSchema>;

/** Reads a secret file's text: the service principal JSON. Messages never quote the file. */
export function parseAzureServicePrincipal(text: string, subscriptionId?: string): AzureServicePrincipal {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('invalid Azure credential: the secret must be a service principal JSON ({"tenantId","clientId","clientSecret","subscriptionId"}, or az ad sp create-for-rbac output plus subscriptionId); it was not JSON (nothing of it is shown)');
  }
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const normalized = {
    tenantId: o.tenantId ?? o.tenant,
    clientId: o.clientId ?? o.appId,
    clientSecret: o.clientSecret ?? o.password,
    subscriptionId: o.subscriptionId ?? subscriptionId,
  };
  const r = AzureServicePrincipalSchema.safeParse(normalized);
  if (!r.success) throw new Error(`invalid Azure credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(secret)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
