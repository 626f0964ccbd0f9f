/**
 * Google Compute Engine wire facts the adapter relies on, from Google's Compute Engine API v1
 * discovery document (https://compute.googleapis.com/$discovery/rest?version=v1; the REST model
 * @google-cloud/compute's v1 clients are generated from). The SDK serializes requests and parses
 * the JSON; this file holds the names and values the adapter reads and the service-account key.
 */
import { z } from 'zod';

export const GCP_PROVIDER_ID = 'gcp';

/** Compute Engine's API host; `apiEndpoint` of the SDK clients. */
export const COMPUTE_API_HOST = 'compute.googleapis.com';

/** The OAuth scope for Compute (the SDK's own default scope for these clients). */
export const COMPUTE_SCOPE = 'https://www.googleapis.com/auth/compute';

/** `Instance.status` values (discovery doc, `Instance.status` enum). */
export const GCE_STATUSES = ['PROVISIONING', 'STAGING', 'RUNNING', 'STOPPING', 'STOPPED', 'SUSPENDING', 'SUSPENDED', 'REPAIRING', 'TERMINATED', 'PENDING_STOP'] as const;
export type GceStatus = (typeof GCE_STATUSES)[number];

/** The operation type Compute records in a zone when it preempts a Spot/preemptible VM. */
export const PREEMPTED_OPERATION_TYPE = 'compute.instances.preempted';
/** The operation types of a host problem ending a VM (Compute's "host error" and "guest terminate"). */
export const HOST_ERROR_OPERATION_TYPES = ['compute.instances.hostError'] as const;

/**
 * The default image: Google's Deep Learning VM image family with the NVIDIA driver (project
 * `deeplearning-platform-release`, "common-cu124-ubuntu-2204-py310": CUDA 12.4 on Ubuntu 22.04,
 * per Google's "Choose an image" page for Deep Learning VM). Overridable per connection.
 */
export const DEFAULT_IMAGE = 'projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204-py310';
/** The login the adapter puts in `ssh-keys` metadata (`user:ssh-ed25519 AAAA… user`). */
export const DEFAULT_SSH_USER = 'gpuflow';

/** Label keys gpuflow writes on every instance (labels: lower-case, ≤ 63 characters). */
export const GCP_LABEL_KEYS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
} as const;
/**
 * Metadata keys holding what labels cannot (label values are `[a-z0-9_-]{0,63}`): the exact
 * refId, credential refId and caller's tags. Labels carry a hash when a value does not fit.
 */
export const GCP_METADATA_KEYS = {
  sshKeys: 'ssh-keys',
  userData: 'user-data',
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  tags: 'gpuflow-tags',
  name: 'gpuflow-name',
} as const;

/**
 * Test only: labels the replica (test/replicas/gcp) puts on instances whose "machine" is an sshd of
 * the test user on a non-22 port. Real Compute has no such labels; the adapter reads them only with
 * `testReplica: true`.
 */
export const REPLICA_LABEL_KEYS = { sshPort: 'gpuflow-replica-ssh-port', sshUser: 'gpuflow-replica-ssh-user', notPrivileged: 'gpuflow-replica-not-privileged' } as const;

/** Instance names: RFC 1035, `[a-z]([-a-z0-9]{0,61}[a-z0-9])?` (discovery doc, `Instance.name`). */
export const INSTANCE_NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Label keys and values (Compute "Labeling resources"): keys start with a letter; both ≤ 63. */
export const LABEL_KEY_RE = /^[a-z][a-z0-9_-]{0,62}$/;
export const LABEL_VALUE_RE = /^[a-z0-9_-]{0,63}$/;

/**
 * A service-account key as the console and `gcloud iam service-accounts keys create` write it
 * (the secret file or store entry holds this JSON). Other fields Google adds are kept, unread.
 */
export const GcpServiceAccountKeySchema = z.looseObject({
  type: z.literal('service_account', { message: 'type must be "service_account": the file must be a service-account key (user credentials from gcloud auth are ADC: leave apiKeyFile out)' }),
  project_id: z.string().regex(/^[a-z][-a-z0-9.:]{4,62}[a-z0-9]$/, 'project_id must be a Google Cloud project ID such as my-gpu-project'),
  private_key_id: z.string().regex(/^[0-9a-f]{16,64}$/, 'private_key_id must be the key ID (hex) Google wrote into the key file'),
  private_key: z
    .string()
    .refine((k) => /^-----BEGIN (RSA )?PRIVATE KEY-----\n[\s\S]+\n-----END (RSA )?PRIVATE KEY-----\n?$/.test(k), { message: 'private_key must be the PEM private key of the key file ("-----BEGIN PRIVATE KEY-----\\n…")' }),
  client_email: z.string().regex(/^[^@\s]+@[a-z0-9.-]+$/, 'client_email must be the service account e-mail, e.g. gpuflow@my-gpu-project.iam.gserviceaccount.com'),
  client_id: z.string().optional(),
  token_uri: z.string().optional(),
});
export type GcpServiceAccountKey = z.infer<typeof GcpServiceAccountKeySchema>;

/** Reads a secret file's text: a service-account key JSON. Messages never quote the file. */
export function parseGcpServiceAccountKey(text: string): GcpServiceAccountKey {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('invalid GCP credential: the secret must be a service-account key JSON file (as "gcloud iam service-accounts keys create" writes it); it was not JSON (nothing of it is shown)');
  }
  const r = GcpServiceAccountKeySchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid GCP credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(secret)'}: ${i.message}`).join('; ')}`);
  return r.data;
}
