/**
 * Azure VMs → the contract's instances: status, eviction, SSH endpoint and identity.
 *
 * - Identity: tags `gpuflow-ref-id`, `gpuflow-cloud-cred-ref-id`, `gpuflow-name` written by the
 *   create itself (the PUT), next to the caller's tags.
 * - cloudId is `<resourceGroup>/<vmName>`: ARM addresses a VM by subscription, group and name.
 * - Status from `instanceView.statuses` (Azure "States and billing status of Azure Virtual
 *   Machines"): `ProvisioningState/creating` (no power state yet) → pending,
 *   `PowerState/starting` → pending, `running` → running, `stopping`/`deallocating` → stopping,
 *   `stopped`/`deallocated` → stopped, `ProvisioningState/deleting` → terminating,
 *   `ProvisioningState/failed` with no power state → failed.
 * - Eviction: a Spot VM with `evictionPolicy: Delete` is deallocated, then deleted by Azure. A Spot
 *   VM seen deallocating or deallocated that this client did not ask to stop or delete, and a Spot
 *   VM that vanished without a delete from this client, is `interruption: preempted`
 *   (see client.ts; Azure tells the VM itself through Scheduled Events' `Preempt`, not ARM).
 */
import { bytes } from '../sdk/bytes.js';
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import type { Instance, InstanceStatus, LifecycleStatus, Tags } from '../sdk/types.js';
import { AZURE_TAG_KEYS, DEFAULT_SSH_USER, REPLICA_TAG_KEYS, type PowerState } from './api.js';

/** The part of the SDK's `VirtualMachine` the adapter reads. */
export interface AzureVm {
  id?: string;
  name?: string;
  location?: string;
  tags?: Record<string, string>;
  hardwareProfile?: { vmSize?: string };
  priority?: string;
  evictionPolicy?: string;
  provisioningState?: string;
  timeCreated?: Date | string;
  storageProfile?: { osDisk?: { diskSizeGB?: number }; imageReference?: { publisher?: string; offer?: string; sku?: string; version?: string } };
  osProfile?: { computerName?: string; adminUsername?: string };
  instanceView?: { statuses?: { code?: string; displayStatus?: string; message?: string; time?: Date | string }[] };
}

const POWER: Readonly<Record<PowerState, LifecycleStatus>> = {
  starting: 'pending',
  running: 'running',
  stopping: 'stopping',
  deallocating: 'stopping',
  stopped: 'stopped',
  deallocated: 'stopped',
  unknown: 'pending',
};

export function cloudIdOf(resourceGroup: string, name: string): string {
  return `${resourceGroup}/${name}`;
}

/** `<resourceGroup>/<vmName>` → its parts; undefined when it is not one of ours. */
export function parseCloudId(cloudId: string): { resourceGroup: string; name: string } | undefined {
  const m = /^([-\w.()]{1,90})\/([A-Za-z0-9][A-Za-z0-9_.-]{0,63})$/.exec(cloudId);
  return m ? { resourceGroup: m[1]!, name: m[2]! } : undefined;
}

/** The VM's power state and provisioning state from `instanceView.statuses` codes. */
export function vmStates(vm: Pick<AzureVm, 'instanceView' | 'provisioningState'>): { power?: PowerState; provisioning?: string } {
  let power: PowerState | undefined;
  let provisioning: string | undefined;
  for (const s of vm.instanceView?.statuses ?? []) {
    const [kind, value] = (s.code ?? '').split('/');
    if (kind === 'PowerState' && value) power = value as PowerState;
    if (kind === 'ProvisioningState' && value) provisioning = value.toLowerCase();
  }
  const prov = provisioning ?? vm.provisioningState?.toLowerCase();
  return { ...(power ? { power } : {}), ...(prov ? { provisioning: prov } : {}) };
}

export function azureStatus(vm: Pick<AzureVm, 'instanceView' | 'provisioningState'>, opts: { preempted?: boolean; deleting?: boolean } = {}): InstanceStatus {
  const { power, provisioning } = vmStates(vm);
  const messages = (vm.instanceView?.statuses ?? []).map((s) => s.message).filter((m): m is string => !!m);
  let lifecycleStatus: LifecycleStatus;
  if (provisioning === 'deleting' || opts.deleting) lifecycleStatus = 'terminating';
  else if (power) lifecycleStatus = POWER[power] ?? 'pending';
  else if (provisioning === 'failed') lifecycleStatus = 'failed';
  else lifecycleStatus = 'pending';
  if (opts.preempted && lifecycleStatus !== 'pending' && lifecycleStatus !== 'running') return { lifecycleStatus, messages, interruption: 'preempted' };
  return { lifecycleStatus, messages };
}

function lastSegment(id: string | undefined): string {
  const s = id ?? '';
  return s.slice(s.lastIndexOf('/') + 1);
}

/** The resource group of an ARM resource ID (`/subscriptions/…/resourceGroups/<rg>/providers/…`). */
export function resourceGroupOf(id: string | undefined): string {
  return /\/resourceGroups\/([^/]+)\//i.exec(id ?? '')?.[1] ?? '';
}

function userTags(tags: Record<string, string>): Tags {
  const ours = new Set<string>([...Object.values(AZURE_TAG_KEYS), ...Object.values(REPLICA_TAG_KEYS)]);
  return Object.fromEntries(Object.entries(tags).filter(([k]) => !ours.has(k)));
}

export interface AzureInstanceContext {
  testReplica: boolean;
  publicIp: string;
  privateIp: string;
  preempted?: boolean;
  deleting?: boolean;
}

export function azureInstance(vm: AzureVm, ctx: AzureInstanceContext): Instance {
  const name = vm.name ?? lastSegment(vm.id);
  const rg = resourceGroupOf(vm.id);
  const region = (vm.location ?? '').toLowerCase();
  const tags = vm.tags ?? {};
  const type = vm.hardwareProfile?.vmSize ?? 'unknown';
  const status = azureStatus(vm, { ...(ctx.preempted ? { preempted: true } : {}), ...(ctx.deleting ? { deleting: true } : {}) });
  const spot = vm.priority === 'Spot';
  const replicaPort = ctx.testReplica ? Number(tags[REPLICA_TAG_KEYS.sshPort] ?? '') : NaN;
  const diskGb = vm.storageProfile?.osDisk?.diskSizeGB;
  const img = vm.storageProfile?.imageReference;
  const created = vm.timeCreated ? new Date(vm.timeCreated) : new Date(0);
  return {
    name: tags[AZURE_TAG_KEYS.name] ?? name,
    refId: tags[AZURE_TAG_KEYS.refId] ?? name,
    cloudCredRefId: tags[AZURE_TAG_KEYS.cloudCredRefId] ?? 'unknown',
    createdAt: created.toISOString(),
    cloudId: cloudIdOf(rg, name),
    publicIp: status.lifecycleStatus === 'running' || status.lifecycleStatus === 'pending' ? ctx.publicIp : '',
    publicDns: '',
    privateIp: ctx.privateIp,
    hostname: vm.osProfile?.computerName ?? name,
    imageId: img?.publisher ? `${img.publisher}:${img.offer}:${img.sku}:${img.version}` : '',
    instanceType: type,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: region, subLocation: '', instanceType: type }),
    ...(typeof diskGb === 'number' && diskGb > 0 ? { diskSize: bytes(diskGb, 'GiB') } : {}),
    sshUser: (ctx.testReplica ? tags[REPLICA_TAG_KEYS.sshUser] : undefined) ?? vm.osProfile?.adminUsername ?? DEFAULT_SSH_USER,
    sshPort: Number.isInteger(replicaPort) && replicaPort > 0 ? replicaPort : 22,
    status,
    spot,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: region,
    subLocation: '',
    tags: userTags(tags),
    stoppable: !spot,
    rebootable: true,
    isContainer: false,
    // The replica's machines are sshd processes of the test user: nothing to reconfigure as root.
    notPrivileged: ctx.testReplica,
  };
}

/** A Spot VM Azure evicted and deleted: the last view of it, terminated with `interruption: preempted`. */
export function evictedInstance(last: Instance, at = new Date()): Instance {
  return { ...last, publicIp: '', status: { lifecycleStatus: 'terminated', messages: ['Spot VM evicted and deleted by Azure (evictionPolicy Delete).'], interruption: 'preempted' }, terminatedAt: at.toISOString() };
}
