/**
 * Vast.ai REST API wire format (shared/specs/vastai-openapi.yaml, docs.vast.ai), as zod schemas the
 * adapter validates every response with. Objects are not strict: Vast returns many more fields
 * (search offers answer with `additionalProperties: true`) and adds new ones.
 *
 * Units as Vast sends them: `gpu_ram` and `cpu_ram` in MB (MiB), `disk_space` in GB, prices in $/h
 * as JSON numbers, `start_date` in Unix seconds.
 */
import { z } from 'zod';

export const VASTAI_PROVIDER_ID = 'vastai';
export const VASTAI_DEFAULT_BASE_URL = 'https://console.vast.ai';
/** The spec's default image for `PUT /api/v0/asks/{id}/`. */
export const VASTAI_DEFAULT_IMAGE = 'vastai/base-image:@vastai-automatic-tag';

/** The `error` codes the adapter acts on (spec and rate-limits-and-errors.mdx); `msg` is for people. */
export const VASTAI_ERROR_CODES = {
  authError: 'auth_error',
  noSuchAsk: 'no_such_ask',
  invalidArgs: 'invalid_args',
  invalidPrice: 'invalid_price',
  noSshKeyForVm: 'no_ssh_key_for_vm',
  notFound: 'not_found',
  noSuchInstance: 'no_such_instance',
  rateLimitExceeded: 'rate_limit_exceeded',
  searchQuotaExceeded: 'search_quota_exceeded',
} as const;

/** `{"success": false, "error": "<code>", "msg": "..."}`; some endpoints omit fields or send `message`/`detail`. */
export const VastErrorBodySchema = z.object({
  success: z.boolean().optional(),
  error: z.string().optional(),
  msg: z.string().optional(),
  message: z.string().optional(),
  detail: z.string().optional(),
});

const num = z.number();
const optNum = z.number().nullish();
const optStr = z.string().nullish();

/** One search result of `POST /api/v0/bundles/`: an ask (offer) on one machine. */
export const VastOfferSchema = z.object({
  /** The ask ID: what `PUT /api/v0/asks/{id}/` accepts. Not stable: a re-listed machine gets a new one. */
  id: z.number().int(),
  ask_contract_id: optNum,
  machine_id: z.number().int(),
  host_id: optNum,
  gpu_name: z.string().min(1),
  num_gpus: z.number().int().nonnegative(),
  /** Per GPU, MB. */
  gpu_ram: num,
  gpu_arch: optStr,
  cpu_arch: optStr,
  cpu_cores_effective: num,
  /** MB. */
  cpu_ram: num,
  /** GB. */
  disk_space: num,
  dph_total: num,
  min_bid: optNum,
  rentable: z.boolean().optional(),
  geolocation: optStr,
  reliability: optNum,
  verification: optStr,
  bw_nvlink: optNum,
});
export type VastOfferWire = z.infer<typeof VastOfferSchema>;

export const VastSearchResponseSchema = z.object({ offers: z.array(VastOfferSchema) });

export const VastCreateResponseSchema = z.object({ success: z.boolean(), new_contract: z.number().int() });

const PortBindingSchema = z.object({ HostIp: z.string().optional(), HostPort: z.string() });

/** Test only: see VastReplicaExtension in README.md. The replica's machines are sshd processes run as the test user. */
export const VastReplicaExtensionSchema = z.object({ ssh_user: z.string().optional() });

/** The `Instance` schema (show instance, show instances). */
export const VastInstanceSchema = z.object({
  id: z.number().int(),
  /** null (provisioning), loading, created, running, stopped, frozen, exited, rebooting, unknown, offline. */
  actual_status: optStr,
  intended_status: optStr,
  cur_state: optStr,
  next_state: optStr,
  status_msg: optStr,
  label: optStr,
  machine_id: z.number().int().nullish(),
  image_uuid: optStr,
  ssh_host: optStr,
  ssh_port: z.number().int().nullish(),
  public_ipaddr: optStr,
  ports: z.record(z.string(), z.array(PortBindingSchema)).nullish(),
  is_bid: z.boolean().nullish(),
  min_bid: optNum,
  dph_total: optNum,
  gpu_name: z.string().min(1),
  num_gpus: z.number().int().nonnegative(),
  gpu_ram: num,
  cpu_arch: optStr,
  disk_space: optNum,
  geolocation: optStr,
  country_code: optStr,
  start_date: optNum,
  gpuflow_replica: VastReplicaExtensionSchema.optional(),
});
export type VastInstanceWire = z.infer<typeof VastInstanceSchema>;

/** `GET /api/v0/instances/{id}/`: one object under the plural key. */
export const VastShowInstanceResponseSchema = z.object({ instances: VastInstanceSchema.nullish() });

/** `GET /api/v1/instances`: keyset pages of at most 25. */
export const VastInstancesPageSchema = z.object({
  instances: z.array(VastInstanceSchema),
  next_token: z.string().nullish(),
  total_instances: z.number().int().optional(),
});

/** `GET /api/v0/ssh/`: the account's keys (the key text is `key`). */
export const VastSshKeysResponseSchema = z.array(z.object({ id: z.number().int(), key: z.string(), deleted_at: z.string().nullish() }));
export const VastCreateSshKeyResponseSchema = z.object({ success: z.boolean(), key: z.object({ id: z.number().int(), public_key: z.string() }) });

export const VastSuccessSchema = z.object({ success: z.boolean().optional(), msg: z.string().optional() });

/** `PUT /api/v0/asks/{id}/`: only what the adapter sends. */
export interface VastCreateRequest {
  image: string;
  label: string;
  disk: number;
  runtype: 'ssh_direct';
  /** Interruptible (bid) only, $/h. */
  price?: number;
  /** Fail now (410) instead of queueing when the ask cannot start at once. */
  cancel_unavail: true;
  env?: Record<string, string>;
}
