/**
 * The local cloud's wire format, shared by the daemon (which emits it) and the adapter (which
 * validates it). Payloads are the provider contract's own shapes (Location, InstanceType, Instance)
 * inside a `{ "data": ... }` envelope; every error is `{ "error": { "code", "message" } }`.
 */
import { z } from 'zod';
import { FirewallRulesSchema, TagsSchema } from '../sdk/types.js';
import { BytesSchema } from '../sdk/bytes.js';

export const LOCAL_PROVIDER_ID = 'local';
export const LOCAL_API_VERSION = 'v1';

/** Error codes the daemon answers with, and their HTTP status. */
export const LOCAL_ERROR_CODES = {
  unauthorized: 401,
  'invalid-request': 400,
  'quota-exceeded': 403,
  'instance-not-found': 404,
  'not-found': 404,
  'method-not-allowed': 405,
  'insufficient-capacity': 409,
  'invalid-state': 409,
  'payload-too-large': 413,
  'rate-limited': 429,
  'internal-error': 500,
  'service-unavailable': 503,
} as const;
export type LocalErrorCode = keyof typeof LOCAL_ERROR_CODES;

export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function envelope<T extends z.ZodTypeAny>(data: T) {
  return z.object({ data });
}

/** Body of `POST /v1/instances`. */
export const CreateInstanceBodySchema = z
  .object({
    refId: z.string().min(1, 'refId is required: it makes create idempotent').max(256),
    cloudCredRefId: z.string().min(1, 'cloudCredRefId is required').max(256),
    name: z.string().max(256).default(''),
    location: z.string().min(1, 'location is required'),
    instanceType: z.string().min(1, 'instanceType is required'),
    publicKey: z
      .string()
      .trim()
      .regex(
        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/,
        'publicKey must be one OpenSSH public key line such as "ssh-ed25519 AAAA... comment"',
      ),
    useSpot: z.boolean().default(false),
    tags: TagsSchema.default({}),
    firewallRules: FirewallRulesSchema.default({ ingressRules: [], egressRules: [] }),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are letters, digits and _, not starting with a digit'), z.string())
      .default({}),
    imageId: z.string().default(''),
    userDataBase64: z.string().default(''),
    diskSize: BytesSchema.optional(),
  })
  .strict();
export type CreateInstanceBody = z.input<typeof CreateInstanceBodySchema>;

/** Body of `PATCH /v1/instances/:id/tags`: merged into the instance's tags. */
export const UpdateTagsBodySchema = z.object({ tags: TagsSchema }).strict();

/** `GET /v1/info`: what a client needs to pace itself. */
export const LocalCloudInfoSchema = z.object({
  provider: z.literal(LOCAL_PROVIDER_ID),
  apiVersion: z.string(),
  instancePollMs: z.number().int().positive(),
  instanceTypePollMs: z.number().int().positive(),
  maxCreateRequestsPerMinute: z.number().int().positive(),
  bootDelayMs: z.number().int().nonnegative(),
  sshUser: z.string(),
});
export type LocalCloudInfo = z.infer<typeof LocalCloudInfoSchema>;

// ---------------------------------------------------------------------------------------------
// Admin API (fault injection and test hooks)
// ---------------------------------------------------------------------------------------------

/** Matches a create by instance type and/or location; an omitted field matches anything. */
export const FaultMatchSchema = z
  .object({
    type: z.string().min(1).optional(),
    location: z.string().min(1).optional(),
  })
  .strict();
export type FaultMatch = z.infer<typeof FaultMatchSchema>;

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const UnavailableFaultSchema = z
  .object({
    /** The outage ends at this epoch time (ms). */
    untilMs: z.number().int().nonnegative().optional(),
    /** The outage lasts this long from when the fault is set. */
    forMs: z.number().int().positive().optional(),
    /** Only the next N matching requests fail. */
    times: z.number().int().positive().optional(),
    /** Only these methods fail (default: all). */
    methods: z.array(z.enum(HTTP_METHODS)).min(1).optional(),
    /** Only paths starting with one of these fail (default: every /v1 path). Admin paths never fail. */
    paths: z.array(z.string().startsWith('/', 'paths start with "/"')).min(1).optional(),
    /** Retry-After value; default: the outage's remaining seconds, or 1. */
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    /** 503 (an outage, the default) or 429 (a rate limit: `rate-limited`, "slow down"). */
    status: z.union([z.literal(503), z.literal(429)]).default(503),
    /**
     * How Retry-After is written (RFC 9110 allows both): delay-seconds (default) or an HTTP-date,
     * that many seconds after the moment of answering or, without `retryAfterSeconds`, the outage's end.
     */
    retryAfterForm: z.enum(['seconds', 'date']).default('seconds'),
  })
  .strict();

export const CapacityFaultSchema = FaultMatchSchema.extend({
  /**
   * Also report the matching instance types as unavailable in `GET /v1/instance-types`. By default
   * the catalog still says available (a stale catalog, the race every real cloud has) and only the
   * create fails.
   */
  hideFromCatalog: z.boolean().default(false),
  /** Only this market runs out (e.g. spot capacity reclaimed while on-demand still has room). */
  market: z.enum(['spot', 'on-demand']).optional(),
}).strict();

export const FaultsSchema = z
  .object({
    /** Creates matching any entry fail with 409 insufficient-capacity. */
    outOfCapacity: z.array(CapacityFaultSchema).default([]),
    /** Creates matching any entry fail with 403 quota-exceeded. */
    quotaExceeded: z.array(FaultMatchSchema).default([]),
    /** Requests answer 503 with Retry-After. */
    unavailable: UnavailableFaultSchema.optional(),
    /** Every /v1 request waits this long before it is handled. */
    latencyMs: z.number().int().nonnegative().max(120_000).default(0),
    /**
     * The next N creates that make a new instance answer 503 although the instance was made (a
     * response lost on the way back), to exercise idempotent retries.
     */
    loseCreateResponses: z.number().int().nonnegative().default(0),
    /** Matching instance types are listed twice under the same ID, the copy at another price. */
    duplicateInstanceTypeIds: z.array(FaultMatchSchema).default([]),
  })
  .strict();
export type LocalFaultsInput = z.input<typeof FaultsSchema>;
export type LocalFaults = z.infer<typeof FaultsSchema>;

export const GpuUtilizationBodySchema = z
  .object({ values: z.array(z.number().int().min(0).max(100)).min(1) })
  .strict();

export const PreemptBodySchema = z.object({ message: z.string().max(1000).optional() }).strict();

export const LocalCloudStatsSchema = z.object({
  /** Instances made (creates that did not return an existing instance). */
  createsAccepted: z.number().int(),
  /** Every POST /v1/instances that reached the handler. */
  createRequests: z.number().int(),
  /** refId → number of instances made with it. */
  byRefId: z.record(z.string(), z.number().int()),
  /** Instances currently running. */
  running: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
});
export type LocalCloudStats = z.infer<typeof LocalCloudStatsSchema>;
