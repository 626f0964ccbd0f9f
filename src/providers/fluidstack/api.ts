/**
 * FluidStack Infrastructure API v1alpha1 wire format (shared/specs/fluidstack-openapi.yaml, the
 * spec brevdev/cloud generated its client from), as zod schemas the adapter validates every
 * response with. Objects are not strict: FluidStack may add fields.
 *
 * The API is served per region (`https://<region>.atlas.fluidstack.io/api/v1alpha1`) and scoped by
 * project: instance and capacity calls carry the project's UUID in `X-PROJECT-ID`; the instance
 * type list does not. Errors are `{"message": "..."}`; the spec gives no codes.
 */
import { z } from 'zod';

export const FLUIDSTACK_PROVIDER_ID = 'fluidstack';
export const FLUIDSTACK_API_PREFIX = '/api/v1alpha1';
export const FLUIDSTACK_PROJECT_HEADER = 'X-PROJECT-ID';
/** The spec's default `image`. */
export const FLUIDSTACK_DEFAULT_IMAGE = 'image://ubuntu22.04';

/** The spec's server, for one region. */
export function fluidstackRegionUrl(region: string): string {
  return `https://${region}.atlas.fluidstack.io${FLUIDSTACK_API_PREFIX}`;
}

/** `InstanceState` (kept open on read: a new state must not break reads). */
export const FLUIDSTACK_INSTANCE_STATES = ['creating', 'starting', 'running', 'stopping', 'stopped', 'deleting', 'out-of-stock', 'error'] as const;
export type FluidstackInstanceState = (typeof FLUIDSTACK_INSTANCE_STATES)[number];

/**
 * Tag keys (spec `InstancesPostRequest.tags`): "1–63 characters, start and end with
 * alphanumerics, and may include `-`, `_`, and `.`".
 */
export const FLUIDSTACK_TAG_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export const FluidstackErrorBodySchema = z.object({ message: z.string() });

export const FluidstackInstanceTypeSchema = z.object({
  name: z.string().min(1),
  cpu: z.number().int().nonnegative(),
  /** A Kubernetes quantity, e.g. "960Gi". */
  memory: z.string().min(1),
  /** e.g. "GH100_H100_SXM5_80GB" (die, model, form factor, memory). */
  gpuModel: z.string().nullish(),
  gpuCount: z.number().int().nonnegative().nullish(),
});
export type FluidstackInstanceTypeWire = z.infer<typeof FluidstackInstanceTypeSchema>;
export const FluidstackInstanceTypesSchema = z.array(FluidstackInstanceTypeSchema);

/** `ListCapacity_200_response_inner`: how many instances of a type the project can get now. */
export const FluidstackCapacitySchema = z.object({ name: z.string().min(1), capacity: z.number().int() });
export type FluidstackCapacityWire = z.infer<typeof FluidstackCapacitySchema>;
export const FluidstackCapacityListSchema = z.array(FluidstackCapacitySchema);

/**
 * Test only: a replica's instances are sshd processes on a shared test host, on a random port as
 * the local user. Real FluidStack has no such field; the adapter reads it only with testReplica.
 */
export const FluidstackReplicaExtensionSchema = z.object({
  ssh_port: z.number().int().positive().optional(),
  ssh_user: z.string().min(1).optional(),
  not_privileged: z.boolean().optional(),
});

export const FluidstackInstanceSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  type: z.string().min(1),
  /** "Private IP address of the instance" (the only address the API gives). */
  ip: z.string().nullish(),
  state: z.string().min(1),
  image: z.string().default(''),
  preemptible: z.boolean().default(false),
  ephemeral: z.boolean().default(false),
  userData: z.string().nullish(),
  filesystems: z.array(z.string()).nullish(),
  tags: z.record(z.string(), z.string()).nullish(),
  gpuflow_replica: FluidstackReplicaExtensionSchema.optional(),
});
export type FluidstackInstanceWire = z.infer<typeof FluidstackInstanceSchema>;
export const FluidstackInstancesSchema = z.array(FluidstackInstanceSchema);

/** `InstancesPostRequest`: only what the adapter sends. */
export interface FluidstackCreateRequest {
  name: string;
  type: string;
  image: string;
  preemptible: boolean;
  ephemeral: boolean;
  /** Base64 cloud-init user data. */
  userData: string;
  tags: Record<string, string>;
}
