/**
 * FluidStack instances → the contract's Instance (pure): identity from tags, status from `state`
 * (see {@link fluidstackStatus}), the SSH login of FluidStack images.
 */
import type { Instance, InstanceStatus, Tags } from '../sdk/types.js';
import { FLUIDSTACK_TAG_KEY, type FluidstackInstanceWire } from './api.js';
import { fluidstackTypeId } from './catalog.js';

/** Tags the adapter writes and reads back (FluidStack has no creation time field). */
export const FLUIDSTACK_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  createdAt: 'gpuflow-created-at',
} as const;

/** Ubuntu images' default user; the API does not say, and the key goes to the default user. */
export const FLUIDSTACK_SSH_USER = 'ubuntu';
export const FLUIDSTACK_SSH_PORT = 22;

/**
 * FluidStack state → contract status. `out-of-stock` means FluidStack has no machine for the
 * instance: for a preemptible instance that is preemption (its capacity was reclaimed; interruption
 * "preempted"), otherwise the instance could not be placed. Both are `failed`, not `terminated`:
 * the record stays at FluidStack until it is deleted, and gpuflow's sweeps delete every instance
 * of a refId that is not terminated.
 */
export function fluidstackStatus(state: string, preemptible: boolean): InstanceStatus {
  switch (state) {
    case 'creating':
    case 'starting':
      return { lifecycleStatus: 'pending', messages: [] };
    case 'running':
      return { lifecycleStatus: 'running', messages: [] };
    case 'stopping':
      return { lifecycleStatus: 'stopping', messages: [] };
    case 'stopped':
      return { lifecycleStatus: 'stopped', messages: [] };
    case 'deleting':
      return { lifecycleStatus: 'terminating', messages: [] };
    case 'out-of-stock':
      return preemptible
        ? { lifecycleStatus: 'failed', messages: ['fluidstack reclaimed the preemptible instance (out-of-stock)'], interruption: 'preempted' }
        : { lifecycleStatus: 'failed', messages: ['fluidstack has no stock for this instance type (out-of-stock)'] };
    case 'error':
      return { lifecycleStatus: 'failed', messages: ['fluidstack reports an error'] };
    default:
      return { lifecycleStatus: 'pending', messages: [`unknown fluidstack state "${state}"`] };
  }
}

/** Tags as FluidStack takes them; a key it would refuse is a bad request of the caller, named here. */
export function checkFluidstackTags(tags: Tags): string[] {
  return Object.keys(tags)
    .filter((k) => !FLUIDSTACK_TAG_KEY.test(k))
    .map((k) => `tag key ${JSON.stringify(k)} must be 1-63 characters, start and end with a letter or digit, and contain only letters, digits, "-", "_" and "."`);
}

function isoOrUndefined(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

export function fluidstackInstance(w: FluidstackInstanceWire, region: string, opts: { testReplica: boolean }): Instance {
  const tags: Tags = { ...(w.tags ?? {}) };
  const ext = opts.testReplica ? w.gpuflow_replica : undefined;
  const ip = w.ip ?? '';
  return {
    name: w.name,
    refId: tags[FLUIDSTACK_TAGS.refId] || w.id,
    cloudCredRefId: tags[FLUIDSTACK_TAGS.cloudCredRefId] || 'unknown',
    createdAt: isoOrUndefined(tags[FLUIDSTACK_TAGS.createdAt]) ?? new Date(0).toISOString(),
    cloudId: w.id,
    // The API's one address ("private IP"); it is what SSH reaches (the project's network).
    publicIp: ip,
    publicDns: '',
    privateIp: ip,
    hostname: '',
    imageId: w.image,
    instanceType: w.type,
    instanceTypeId: fluidstackTypeId(region, w.type),
    sshUser: ext?.ssh_user ?? FLUIDSTACK_SSH_USER,
    sshPort: ext?.ssh_port ?? FLUIDSTACK_SSH_PORT,
    status: fluidstackStatus(w.state, w.preemptible),
    spot: w.preemptible,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: region,
    subLocation: '',
    tags,
    stoppable: true,
    rebootable: false,
    isContainer: false,
    notPrivileged: ext?.not_privileged ?? false,
  };
}
