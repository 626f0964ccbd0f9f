/**
 * Shadeform API v1 wire format (shared/specs/shadeform-openapi.yaml), as zod schemas the adapter
 * validates every response with. Objects are not strict: Shadeform may add fields.
 *
 * The spec documents no error responses. What is known (brevdev/cloud shadeform/instance.go):
 * "most well-structured errors are 409" with `{"error_code": "...", "error": "..."}`, and
 * `OUT_OF_STOCK` is the capacity code. Everything else is mapped by HTTP status.
 */
import { z } from 'zod';

export const SHADEFORM_PROVIDER_ID = 'shadeform';
export const SHADEFORM_DEFAULT_BASE_URL = 'https://api.shadeform.ai/v1';
export const SHADEFORM_API_KEY_HEADER = 'X-API-KEY';

export const SHADEFORM_ERROR_CODES = {
  outOfStock: 'OUT_OF_STOCK',
} as const;

export const ShadeformErrorBodySchema = z.object({
  error_code: z.string().default(''),
  error: z.string().default(''),
});

export const ShadeformAvailabilitySchema = z.object({
  region: z.string().min(1),
  available: z.boolean(),
  display_name: z.string().default(''),
});

export const ShadeformTypeConfigurationSchema = z.object({
  memory_in_gb: z.number().int().nonnegative(),
  storage_in_gb: z.number().int().nonnegative(),
  vcpus: z.number().int().nonnegative(),
  num_gpus: z.number().int().nonnegative(),
  gpu_type: z.string(),
  interconnect: z.string().default(''),
  nvlink: z.boolean().nullish(),
  vram_per_gpu_in_gb: z.number().int().nonnegative(),
  os_options: z.array(z.string()).default([]),
  gpu_manufacturer: z.string().default(''),
});

export const ShadeformBootTimeSchema = z.object({
  min_boot_in_sec: z.number().int().nonnegative().nullish(),
  max_boot_in_sec: z.number().int().nonnegative().nullish(),
});

export const ShadeformInstanceTypeSchema = z.object({
  cloud: z.string().min(1),
  shade_instance_type: z.string().min(1),
  cloud_instance_type: z.string().default(''),
  configuration: ShadeformTypeConfigurationSchema,
  /** Cents per hour. */
  hourly_price: z.number().int().nonnegative(),
  deployment_type: z.string().default('vm'),
  availability: z.array(ShadeformAvailabilitySchema),
  boot_time: ShadeformBootTimeSchema.nullish(),
});
export type ShadeformInstanceTypeWire = z.infer<typeof ShadeformInstanceTypeSchema>;

export const ShadeformInstanceTypesResponseSchema = z.object({ instance_types: z.array(ShadeformInstanceTypeSchema) });

/** Test only: see LambdaReplicaExtensionSchema; a replica's instances run on a shared host. */
export const ShadeformReplicaExtensionSchema = z.object({ not_privileged: z.boolean().optional() });

export const ShadeformInstanceSchema = z.object({
  id: z.string().min(1),
  cloud: z.string().min(1),
  region: z.string().min(1),
  shade_instance_type: z.string().min(1),
  cloud_instance_type: z.string().default(''),
  cloud_assigned_id: z.string().default(''),
  shade_cloud: z.boolean().default(true),
  name: z.string().default(''),
  configuration: z.object({
    memory_in_gb: z.number().int().nonnegative(),
    storage_in_gb: z.number().int().nonnegative(),
    vcpus: z.number().int().nonnegative(),
    num_gpus: z.number().int().nonnegative(),
    gpu_type: z.string(),
    interconnect: z.string().default(''),
    vram_per_gpu_in_gb: z.number().int().nonnegative(),
    gpu_manufacturer: z.string().default(''),
    os: z.string().default(''),
  }),
  ip: z.string().nullish(),
  ssh_user: z.string().nullish(),
  ssh_port: z.number().int().nonnegative().nullish(),
  /** creating | pending_provider | pending | active | error | deleting | deleted (kept open). */
  status: z.string().min(1),
  status_details: z.string().nullish(),
  cost_estimate: z.string().nullish(),
  hourly_price: z.number().int().nonnegative().nullish(),
  tags: z.array(z.string()).nullish(),
  created_at: z.string(),
  deleted_at: z.string().nullish(),
  active_at: z.string().nullish(),
  ssh_key_id: z.string().nullish(),
  gpuflow_replica: ShadeformReplicaExtensionSchema.optional(),
});
export type ShadeformInstanceWire = z.infer<typeof ShadeformInstanceSchema>;

export const ShadeformInstancesResponseSchema = z.object({ instances: z.array(ShadeformInstanceSchema) });
export const ShadeformCreateResponseSchema = z.object({ id: z.string().min(1) });

export const ShadeformSshKeySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  public_key: z.string(),
  is_default: z.boolean().default(false),
});
export const ShadeformSshKeysResponseSchema = z.object({ ssh_keys: z.array(ShadeformSshKeySchema) });
export const ShadeformAddSshKeyResponseSchema = z.object({ id: z.string().min(1) });

/** `CreateRequest`: only what the adapter sends. */
export interface ShadeformCreateRequest {
  cloud: string;
  region: string;
  shade_instance_type: string;
  shade_cloud: true;
  name: string;
  ssh_key_id?: string;
  os?: string;
  tags?: string[];
  envs?: { name: string; value: string }[];
}
