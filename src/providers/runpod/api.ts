/**
 * RunPod's GraphQL API (`POST https://api.runpod.io/graphql`): the operations the adapter sends and
 * zod schemas for what comes back. Why GraphQL and not REST v2: see README.md ("API version").
 *
 * Field names are RunPod's (runpod/docs sdks/graphql, runpod-python api/mutations/pods.py,
 * dstack's RunPod backend, notes/provider-apis.md §2a), including its spelling
 * `podRentInterruptable` and `uninterruptablePrice`. Objects are not strict: RunPod may add fields.
 */
import { z } from 'zod';

export const RUNPOD_PROVIDER_ID = 'runpod';
export const RUNPOD_DEFAULT_BASE_URL = 'https://api.runpod.io/graphql';

/** The only cloud tier the adapter rents from (see README: Community Cloud is not supported). */
export const RUNPOD_CLOUD_TYPE = 'SECURE';

/** RunPod's GraphQL error codes seen in `errors[].extensions.code`. */
export const RUNPOD_ERROR_CODES = {
  /** RunPod's own business errors (capacity, bids, missing pods...), answered with HTTP 200. */
  runpod: 'RUNPOD',
  internal: 'INTERNAL_SERVER_ERROR',
  validation: 'GRAPHQL_VALIDATION_FAILED',
  parse: 'GRAPHQL_PARSE_FAILED',
  badInput: 'BAD_USER_INPUT',
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
} as const;

/** The verbatim capacity message (runpod/runpod-python issue #21). */
export const RUNPOD_CAPACITY_MESSAGE = 'There are no longer any instances available with the requested specifications. Please refresh and try again.';

export const RunPodGraphQlErrorSchema = z.object({
  message: z.string().default(''),
  path: z.array(z.union([z.string(), z.number()])).optional(),
  extensions: z.object({ code: z.string().optional() }).loose().optional(),
});
export type RunPodGraphQlError = z.infer<typeof RunPodGraphQlErrorSchema>;

/** Every answer: `{data?, errors?}`; RunPod answers client errors with HTTP 200 and an `errors` array. */
export const RunPodEnvelopeSchema = z.object({
  data: z.unknown().optional(),
  errors: z.array(RunPodGraphQlErrorSchema).optional(),
});

// --- catalog ---------------------------------------------------------------------------------------

/** RunPod's stock levels; `null` (no stock reported) counts as unavailable, as in gpuhunt. */
export const RUNPOD_STOCK_STATUSES = ['High', 'Medium', 'Low', 'None'] as const;

export const RunPodLowestPriceSchema = z.object({
  stockStatus: z.string().nullish(),
  minimumBidPrice: z.number().nonnegative().nullish(),
  uninterruptablePrice: z.number().nonnegative().nullish(),
  minVcpu: z.number().int().nonnegative().nullish(),
  minMemory: z.number().int().nonnegative().nullish(),
});

export const RunPodGpuTypeSchema = z.object({
  id: z.string().min(1),
  displayName: z.string(),
  manufacturer: z.string().nullish(),
  memoryInGb: z.number().int().nonnegative().nullish(),
  secureCloud: z.boolean().nullish(),
  securePrice: z.number().nonnegative().nullish(),
  secureSpotPrice: z.number().nonnegative().nullish(),
  maxGpuCount: z.number().int().nonnegative().nullish(),
  lowestPrice: RunPodLowestPriceSchema.nullish(),
});
export type RunPodGpuTypeWire = z.infer<typeof RunPodGpuTypeSchema>;

export const RunPodGpuAvailabilitySchema = z.object({
  gpuTypeId: z.string().min(1),
  available: z.boolean().nullish(),
  stockStatus: z.string().nullish(),
});

export const RunPodDataCenterSchema = z.object({
  id: z.string().min(1),
  name: z.string().default(''),
  location: z.string().nullish(),
  listed: z.boolean().nullish(),
  gpuAvailability: z.array(RunPodGpuAvailabilitySchema).nullish(),
});
export type RunPodDataCenterWire = z.infer<typeof RunPodDataCenterSchema>;

export const RunPodCatalogDataSchema = z.object({
  dataCenters: z.array(RunPodDataCenterSchema),
  gpuTypes: z.array(RunPodGpuTypeSchema),
});
export type RunPodCatalogData = z.infer<typeof RunPodCatalogDataSchema>;

/** One request for the whole catalog: data centers with per-GPU stock, GPU types with Secure Cloud prices. */
export const CATALOG_QUERY = `query GpuflowCatalog {
  dataCenters { id name location listed gpuAvailability { gpuTypeId available stockStatus } }
  gpuTypes {
    id displayName manufacturer memoryInGb secureCloud securePrice secureSpotPrice maxGpuCount
    lowestPrice(input: { gpuCount: 1, secureCloud: true }) { stockStatus minimumBidPrice uninterruptablePrice minVcpu minMemory }
  }
}`;

/** The current minimum bid of one GPU type in one data center (what a spot create bids). */
export const BID_QUERY = `query GpuflowBid($gpuTypeId: String!, $lowestPrice: GpuLowestPriceInput!) {
  gpuTypes(input: { id: $gpuTypeId }) { id lowestPrice(input: $lowestPrice) { stockStatus minimumBidPrice } }
}`;
export const RunPodBidDataSchema = z.object({
  gpuTypes: z.array(z.object({ id: z.string(), lowestPrice: RunPodLowestPriceSchema.nullish() })),
});

// --- pods ------------------------------------------------------------------------------------------

/** Test only (replica): the SSH user of the shared test host, since RunPod pods are always root. */
export const RunPodReplicaExtensionSchema = z.object({ sshUser: z.string().nullish() });

export const RunPodPortSchema = z.object({
  ip: z.string().nullish(),
  isIpPublic: z.boolean().nullish(),
  privatePort: z.number().int().nullish(),
  publicPort: z.number().int().nullish(),
  type: z.string().nullish(),
});

export const RunPodPodSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  /** CREATED | RUNNING | RESTARTING | EXITED | PAUSED | DEAD | TERMINATED (kept open). */
  desiredStatus: z.string().min(1),
  /** INTERRUPTABLE | RESERVED | BID | BACKGROUND (kept open). */
  podType: z.string().nullish(),
  costPerHr: z.number().nonnegative().nullish(),
  gpuCount: z.number().int().nonnegative().nullish(),
  vcpuCount: z.number().nonnegative().nullish(),
  memoryInGb: z.number().nonnegative().nullish(),
  containerDiskInGb: z.number().int().nonnegative().nullish(),
  imageName: z.string().nullish(),
  /** "KEY=value" strings. */
  env: z.array(z.string()).nullish(),
  machineId: z.string().nullish(),
  lastStatusChange: z.string().nullish(),
  uptimeSeconds: z.number().int().nonnegative().nullish(),
  machine: z
    .object({
      podHostId: z.string().nullish(),
      gpuDisplayName: z.string().nullish(),
      dataCenterId: z.string().nullish(),
    })
    .nullish(),
  /** Null until the container is up (dstack waits for it). */
  runtime: z
    .object({
      uptimeInSeconds: z.number().int().nonnegative().nullish(),
      ports: z.array(RunPodPortSchema).nullish(),
    })
    .nullish(),
  gpuflowReplica: RunPodReplicaExtensionSchema.nullish(),
});
export type RunPodPodWire = z.infer<typeof RunPodPodSchema>;

function podFields(testReplica: boolean): string {
  return `id name desiredStatus podType costPerHr gpuCount vcpuCount memoryInGb containerDiskInGb imageName env machineId
    lastStatusChange uptimeSeconds machine { podHostId gpuDisplayName dataCenterId }
    runtime { uptimeInSeconds ports { ip isIpPublic privatePort publicPort type } }${testReplica ? ' gpuflowReplica { sshUser }' : ''}`;
}

export function podQuery(testReplica: boolean): string {
  return `query GpuflowPod($input: PodFilter!) { pod(input: $input) { ${podFields(testReplica)} } }`;
}
export const RunPodPodDataSchema = z.object({ pod: RunPodPodSchema.nullable() });

export function podsQuery(testReplica: boolean): string {
  return `query GpuflowPods { myself { pods { ${podFields(testReplica)} } } }`;
}
export const RunPodPodsDataSchema = z.object({ myself: z.object({ pods: z.array(RunPodPodSchema) }) });

// Variables are declared non-null (`!`): valid whether RunPod's argument is nullable or not.

/** Deploy mutations answer a few fields only (runpod-python selects these); the adapter reads the pod after. */
const DEPLOYED = 'id imageName machineId machine { podHostId }';
export const DEPLOY_ON_DEMAND_MUTATION = `mutation GpuflowDeploy($input: PodFindAndDeployOnDemandInput!) { podFindAndDeployOnDemand(input: $input) { ${DEPLOYED} } }`;
export const DEPLOY_SPOT_MUTATION = `mutation GpuflowDeploySpot($input: PodRentInterruptableInput!) { podRentInterruptable(input: $input) { ${DEPLOYED} } }`;
const DeployedSchema = z.object({ id: z.string().min(1) }).loose();
export const RunPodDeployOnDemandDataSchema = z.object({ podFindAndDeployOnDemand: DeployedSchema.nullable() });
export const RunPodDeploySpotDataSchema = z.object({ podRentInterruptable: DeployedSchema.nullable() });

/** `podTerminate` returns a scalar (no selection set). */
export const TERMINATE_MUTATION = `mutation GpuflowTerminate($input: PodTerminateInput!) { podTerminate(input: $input) }`;
export const RunPodTerminateDataSchema = z.object({ podTerminate: z.unknown() });

/** `podFindAndDeployOnDemand` / `podRentInterruptable` input: only what the adapter sends. */
export interface RunPodDeployInput {
  name: string;
  imageName: string;
  gpuTypeId: string;
  gpuCount: number;
  cloudType: typeof RUNPOD_CLOUD_TYPE;
  dataCenterId: string;
  containerDiskInGb: number;
  volumeInGb: number;
  ports: string;
  startSsh: true;
  supportPublicIp: true;
  env: { key: string; value: string }[];
  bidPerGpu?: number;
}
