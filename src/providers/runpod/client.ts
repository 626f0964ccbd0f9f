/**
 * The RunPod adapter: the provider contract over RunPod's GraphQL API (see README.md for why
 * GraphQL, and for what is and is not supported).
 *
 * - Catalog: one query for data centers (with per-GPU stock status) and GPU types (Secure Cloud
 *   prices); ./catalog.ts turns them into (GPU type, count, data center) instance types.
 * - Create: `podFindAndDeployOnDemand`, or `podRentInterruptable` with `bidPerGpu` for spot (the
 *   data center's current minimum bid); the SSH key goes in the `PUBLIC_KEY` env var with
 *   `startSsh`, port 22/tcp on a public IP; identity in the pod's env (./pods.ts).
 * - Reads: `pod(input:{podId})` and `myself { pods }`; terminate: `podTerminate`.
 * - Errors: ./http.ts.
 */
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { AuthenticationError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, isCloudError, ServiceUnavailableError } from '../sdk/errors.js';
import { byteCountIn } from '../sdk/bytes.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
} from '../sdk/types.js';
import {
  BID_QUERY,
  CATALOG_QUERY,
  DEPLOY_ON_DEMAND_MUTATION,
  DEPLOY_SPOT_MUTATION,
  podQuery,
  podsQuery,
  RUNPOD_CLOUD_TYPE,
  RunPodBidDataSchema,
  RunPodCatalogDataSchema,
  RunPodDeployOnDemandDataSchema,
  RunPodDeploySpotDataSchema,
  RunPodPodDataSchema,
  RunPodPodsDataSchema,
  RunPodTerminateDataSchema,
  TERMINATE_MUTATION,
  type RunPodCatalogData,
  type RunPodDeployInput,
} from './api.js';
import { RUNPOD_DEFAULT_CONTAINER_DISK_GB, runpodInstanceTypes, runpodLocations, runpodTypeId, splitRunPodType } from './catalog.js';
import { callRunPod, type RunPodHttpTarget } from './http.js';
import { runpodCreateEnv, runpodInstance } from './instances.js';

/**
 * Exactly what this adapter implements. Not: stop-start (podStop/podResume/podBidResume are not
 * wired), reboot, tags (a pod's env can only change with a restart), modify-firewall (a pod is a
 * container; RunPod has no firewall API), instance-userdata, create-instance-idempotent (no
 * idempotency key on deploy).
 */
export const RUNPOD_CAPABILITIES: readonly Capability[] = ['create-instance', 'terminate-instance', 'create-terminate-instance'];

/** RunPod's official PyTorch image: starts sshd with the `PUBLIC_KEY` env var (all official images do). */
export const RUNPOD_DEFAULT_IMAGE = 'runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04';

/**
 * What the client needs of its credential (RunPodCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface RunPodClientCredential extends CloudCredential {
  readonly testReplica: boolean;
  readonly instancePollMs: number;
  httpTarget(): RunPodHttpTarget;
}

export class RunPodClient extends CredentialBoundClient<RunPodClientCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: RunPodHttpTarget;

  constructor(credential: RunPodClientCredential, location: string) {
    super(credential, location);
    this.#target = credential.httpTarget();
  }

  // --- catalog ----------------------------------------------------------------------------------

  private async catalog(): Promise<RunPodCatalogData> {
    return callRunPod(this.#target, 'GpuflowCatalog', CATALOG_QUERY, {}, RunPodCatalogDataSchema, 'catalog');
  }

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locs = runpodLocations(await this.catalog());
    return args?.includeUnavailable ? locs : locs.filter((l) => l.available);
  }

  /** RunPod's API is global: one query lists every data center; locations are filtered here. */
  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    return runpodInstanceTypes(await this.catalog()).filter((it) => isSelectedByArgs(it, parsed.data));
  }

  getInstanceTypePollTimeMs(): number {
    return 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  private toInstance(p: Parameters<typeof runpodInstance>[0]): Instance {
    return runpodInstance(p, { testReplica: this.credential.testReplica });
  }

  /** A terminated pod is gone from RunPod's API (`pod` answers null): InstanceNotFoundError. */
  async getInstance(cloudId: string): Promise<Instance> {
    const { pod } = await callRunPod(this.#target, 'GpuflowPod', podQuery(this.credential.testReplica), { input: { podId: cloudId } }, RunPodPodDataSchema, 'instance');
    if (!pod) throw new InstanceNotFoundError(`runpod: pod ${cloudId} not found`);
    return this.toInstance(pod);
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const { myself } = await callRunPod(this.#target, 'GpuflowPods', podsQuery(this.credential.testReplica), {}, RunPodPodsDataSchema, 'instance');
    return myself.pods.map((p) => this.toInstance(p)).filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  /** The data center's current minimum bid per GPU: what a spot create offers (the price the router costed). */
  private async minimumBid(gpuTypeId: string, gpuCount: number, dataCenterId: string): Promise<number> {
    const { gpuTypes } = await callRunPod(
      this.#target,
      'GpuflowBid',
      BID_QUERY,
      { gpuTypeId, lowestPrice: { gpuCount, secureCloud: true, dataCenterId } },
      RunPodBidDataSchema,
      'catalog',
    );
    const bid = gpuTypes.find((g) => g.id === gpuTypeId)?.lowestPrice?.minimumBidPrice ?? 0;
    if (!(bid > 0)) throw new InsufficientCapacityError(`runpod: no spot market for ${gpuCount}x ${gpuTypeId} in ${dataCenterId}`, { scope: 'zone' });
    return bid;
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.userDataBase64) throw new InvalidRequestError('runpod: user data is not supported (a pod runs a container image, not cloud-init)');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('runpod: firewall rules are not supported (RunPod has no firewall API; a pod exposes only the ports it declares)');
    }
    if (a.subLocation) throw new InvalidRequestError(`runpod: data centers have no sub-locations (got "${a.subLocation}")`);
    const split = splitRunPodType(a.instanceType);
    if (!split) throw new InvalidRequestError(`runpod: instance type "${a.instanceType}" is not {count}x_{gpuTypeId}, e.g. 1x_NVIDIA_GeForce_RTX_4090`);

    const createdAt = new Date().toISOString();
    const credRefId = this.getReferenceId();
    const input: RunPodDeployInput = {
      name: a.name || a.refId,
      imageName: a.imageId || RUNPOD_DEFAULT_IMAGE,
      gpuTypeId: split.gpuTypeId,
      gpuCount: split.gpuCount,
      cloudType: RUNPOD_CLOUD_TYPE,
      dataCenterId: a.location,
      containerDiskInGb: a.diskSize ? Math.ceil(byteCountIn(a.diskSize, 'GB')) : RUNPOD_DEFAULT_CONTAINER_DISK_GB,
      volumeInGb: 0,
      ports: '22/tcp',
      startSsh: true,
      supportPublicIp: true,
      env: runpodCreateEnv({
        publicKey: a.publicKey,
        additionalEnvVars: a.additionalEnvVars,
        refId: a.refId,
        cloudCredRefId: credRefId,
        instanceType: a.instanceType,
        createdAt,
        tags: a.tags,
      }),
    };
    let id: string | undefined;
    if (a.useSpot) {
      input.bidPerGpu = await this.minimumBid(split.gpuTypeId, split.gpuCount, a.location);
      id = (await callRunPod(this.#target, 'GpuflowDeploySpot', DEPLOY_SPOT_MUTATION, { input }, RunPodDeploySpotDataSchema, 'create')).podRentInterruptable?.id;
    } else {
      id = (await callRunPod(this.#target, 'GpuflowDeploy', DEPLOY_ON_DEMAND_MUTATION, { input }, RunPodDeployOnDemandDataSchema, 'create')).podFindAndDeployOnDemand?.id;
    }
    // No pod and no error: nothing was rented; a later attempt may succeed.
    if (!id) throw new ServiceUnavailableError('runpod: the deploy answered no pod and no error');

    try {
      return await this.getInstance(id);
    } catch (e) {
      if (e instanceof AuthenticationError) throw e;
      // Rented: never report a failure for a pod that exists; the caller polls for the rest.
      this.#target.logger?.debug({ id, err: isCloudError(e) ? e.message : String(e) }, 'runpod: reading the new pod failed; returning what the deploy said');
      return {
        name: input.name,
        refId: a.refId,
        cloudCredRefId: credRefId,
        createdAt,
        cloudId: id,
        publicIp: '',
        publicDns: '',
        privateIp: '',
        hostname: '',
        imageId: input.imageName,
        instanceType: a.instanceType,
        instanceTypeId: runpodTypeId(a.instanceType, a.location),
        sshUser: 'root',
        sshPort: 0,
        status: { lifecycleStatus: 'pending', messages: ['deployed; details not read yet'] },
        spot: a.useSpot,
        firewallRules: { ingressRules: [], egressRules: [] },
        location: a.location,
        subLocation: '',
        tags: a.tags,
        stoppable: false,
        rebootable: false,
        isContainer: true,
        notPrivileged: true,
      };
    }
  }

  /** Idempotent: RunPod's "pod not found to terminate" means it is already gone. */
  async terminateInstance(cloudId: string): Promise<void> {
    try {
      await callRunPod(this.#target, 'GpuflowTerminate', TERMINATE_MUTATION, { input: { podId: cloudId } }, RunPodTerminateDataSchema, 'terminate');
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return;
      throw e;
    }
  }

  getMaxCreateRequestsPerMinute(): number {
    return 10;
  }
}
