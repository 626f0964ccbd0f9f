/**
 * Lambda Cloud API v1.8.3 wire format (shared/specs/lambda-openapi.json), as zod schemas the
 * adapter validates every response with. Objects are not strict: Lambda may add fields. Fields the
 * spec marks optional are `nullish` because generated servers also send null.
 */
import { z } from 'zod';

export const LAMBDA_PROVIDER_ID = 'lambda-labs';
/** The spec's server; `https://cloud.lambdalabs.com/` is its deprecated alias. */
export const LAMBDA_DEFAULT_BASE_URL = 'https://cloud.lambda.ai';
export const LAMBDA_API_PREFIX = '/api/v1';

/**
 * Documented rate limits (spec info.description): about one request per second in general, and
 * one `/instance-operations/launch` per 12 seconds (five per minute).
 */
export const LAMBDA_RATE_LIMITS = {
  generalIntervalMs: 1_000,
  launchIntervalMs: 12_000,
  launchesPerMinute: 5,
} as const;

/** Error codes the adapter maps (spec components ApiError*; `provider/` prefixes upstream errors). */
export const LAMBDA_ERROR_CODES = {
  invalidApiKey: 'global/invalid-api-key',
  accountInactive: 'global/account-inactive',
  invalidAddress: 'global/invalid-address',
  invalidParameters: 'global/invalid-parameters',
  objectDoesNotExist: 'global/object-does-not-exist',
  quotaExceeded: 'global/quota-exceeded',
  duplicate: 'global/duplicate',
  internalError: 'global/internal-error',
  insufficientCapacity: 'instance-operations/launch/insufficient-capacity',
  fileSystemInWrongRegion: 'instance-operations/launch/file-system-in-wrong-region',
  providerPrefix: 'provider/',
} as const;

export const LambdaErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string().default(''),
    suggestion: z.string().nullish(),
  }),
});

export const LambdaRegionSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(''),
});
export type LambdaRegionWire = z.infer<typeof LambdaRegionSchema>;

export const LambdaInstanceTypeSpecsSchema = z.object({
  vcpus: z.number().int().nonnegative(),
  memory_gib: z.number().int().nonnegative(),
  storage_gib: z.number().int().nonnegative(),
  gpus: z.number().int().nonnegative(),
});

export const LambdaInstanceTypeSchema = z.object({
  name: z.string().min(1),
  /** e.g. "8x H100 (80 GB SXM5)": the GPU count is only here. */
  description: z.string(),
  gpu_description: z.string().default(''),
  price_cents_per_hour: z.number().int().nonnegative(),
  specs: LambdaInstanceTypeSpecsSchema,
});
export type LambdaInstanceTypeWire = z.infer<typeof LambdaInstanceTypeSchema>;

/** `GET /instance-types` data: instance type name → type and the regions with capacity now. */
export const LambdaInstanceTypesSchema = z.record(
  z.string(),
  z.object({
    instance_type: LambdaInstanceTypeSchema,
    regions_with_capacity_available: z.array(LambdaRegionSchema),
  }),
);
export type LambdaInstanceTypesWire = z.infer<typeof LambdaInstanceTypesSchema>;

export const LambdaTagSchema = z.object({ key: z.string(), value: z.string() });

/**
 * Test only: what a local replica (test/replicas/lambda) adds to each instance, because its
 * instances are sshd processes on a shared host: the real SSH port and user (Lambda's are always
 * 22 and "ubuntu") and that the host is not ours to reconfigure. Real Lambda never sends it, and
 * the adapter reads it only when its credential has `testReplica: true` with a loopback base URL.
 */
export const LambdaReplicaExtensionSchema = z.object({
  ssh_port: z.number().int().positive().max(65535).optional(),
  ssh_user: z.string().min(1).optional(),
  not_privileged: z.boolean().optional(),
});
export const REPLICA_EXTENSION_FIELD = 'gpuflow_replica';

export const LambdaInstanceSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  ip: z.string().nullish(),
  private_ip: z.string().nullish(),
  /** booting | active | unhealthy | terminated | terminating | preempted (kept open: new values must not break reads). */
  status: z.string().min(1),
  ssh_key_names: z.array(z.string()).default([]),
  file_system_names: z.array(z.string()).default([]),
  region: LambdaRegionSchema,
  instance_type: LambdaInstanceTypeSchema,
  hostname: z.string().nullish(),
  tags: z.array(LambdaTagSchema).nullish(),
  [REPLICA_EXTENSION_FIELD]: LambdaReplicaExtensionSchema.optional(),
});
export type LambdaInstanceWire = z.infer<typeof LambdaInstanceSchema>;

export const LambdaLaunchResponseSchema = z.object({ instance_ids: z.array(z.string().min(1)) });
export const LambdaTerminateResponseSchema = z.object({ terminated_instances: z.array(LambdaInstanceSchema) });
export const LambdaRestartResponseSchema = z.object({ restarted_instances: z.array(LambdaInstanceSchema) });

export const LambdaSshKeySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  public_key: z.string(),
});
export type LambdaSshKeyWire = z.infer<typeof LambdaSshKeySchema>;

/** Launch request body (`InstanceLaunchRequest`); only what the adapter sends. */
export interface LambdaLaunchRequest {
  region_name: string;
  instance_type_name: string;
  /** Exactly one name. */
  ssh_key_names: [string];
  name?: string;
  user_data?: string;
  image?: { id: string };
  tags?: { key: string; value: string }[];
}

/** Tag keys Lambda accepts (`RequestedTagEntry`): `^[a-z][a-z0-9-:]+$`, at most 55 characters. */
export const LAMBDA_TAG_KEY = /^[a-z][a-z0-9-:]+$/;
export const LAMBDA_TAG_KEY_MAX = 55;
export const LAMBDA_TAG_VALUE_MAX = 128;
/** Instance and SSH key names: at most 64 characters. */
export const LAMBDA_NAME_MAX = 64;
/** user_data: plain text, at most 1 MB. */
export const LAMBDA_USER_DATA_MAX_BYTES = 1_000_000;
