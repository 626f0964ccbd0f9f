/**
 * Compute Engine instances → the contract's instances: status, preemption, SSH endpoint and identity.
 *
 * - Identity: labels `gpuflow-ref-id`, `gpuflow-cloud-cred-ref-id` (filterable; a hash when the
 *   value does not fit a label) and metadata items holding the exact refId, credential refId and
 *   the caller's tags, all written by the insert itself, so an instance is never unlabelled.
 * - cloudId is `<zone>/<name>`: Compute addresses an instance by project, zone and name.
 * - Status (`Instance.status`): PROVISIONING/STAGING → pending, RUNNING → running,
 *   STOPPING/PENDING_STOP/SUSPENDING → stopping, TERMINATED (Compute's "stopped")/STOPPED/SUSPENDED
 *   → stopped, REPAIRING → pending. A Spot VM Compute took back has a `compute.instances.preempted`
 *   operation in its zone: `interruption: preempted` (and, with `instanceTerminationAction: DELETE`,
 *   the instance is then deleted: see `preemptedInstance`).
 */
import { bytes } from '../sdk/bytes.js';
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import type { Instance, InstanceStatus, LifecycleStatus, Tags } from '../sdk/types.js';
import { DEFAULT_SSH_USER, GCP_LABEL_KEYS, GCP_METADATA_KEYS, REPLICA_LABEL_KEYS, type GceStatus } from './api.js';
import { regionOfZone } from './regions.js';

/** The part of the SDK's `IInstance` the adapter reads. */
export interface GceInstance {
  id?: string | null;
  name?: string | null;
  zone?: string | null;
  machineType?: string | null;
  status?: string | null;
  statusMessage?: string | null;
  creationTimestamp?: string | null;
  lastStopTimestamp?: string | null;
  labels?: Record<string, string> | null;
  metadata?: { items?: { key?: string | null; value?: string | null }[] | null } | null;
  networkInterfaces?: { networkIP?: string | null; accessConfigs?: { natIP?: string | null }[] | null }[] | null;
  disks?: { boot?: boolean | null; diskSizeGb?: string | number | null; licenses?: string[] | null }[] | null;
  scheduling?: { provisioningModel?: string | null; instanceTerminationAction?: string | null; preemptible?: boolean | null } | null;
  hostname?: string | null;
}

const STATUS: Readonly<Record<GceStatus, LifecycleStatus>> = {
  PROVISIONING: 'pending',
  STAGING: 'pending',
  REPAIRING: 'pending',
  RUNNING: 'running',
  STOPPING: 'stopping',
  PENDING_STOP: 'stopping',
  SUSPENDING: 'suspending',
  TERMINATED: 'stopped',
  STOPPED: 'stopped',
  SUSPENDED: 'suspended',
};

/** The last path segment of a Compute URL ("…/zones/us-central1-a" → "us-central1-a"). */
export function lastSegment(url: string | null | undefined): string {
  const s = url ?? '';
  return s.slice(s.lastIndexOf('/') + 1);
}

export function cloudIdOf(zone: string, name: string): string {
  return `${zone}/${name}`;
}

/** `<zone>/<name>` → its parts; undefined when it is not one of ours. */
export function parseCloudId(cloudId: string): { zone: string; name: string } | undefined {
  const m = /^([a-z]+-[a-z]+\d+-[a-z])\/([a-z]([-a-z0-9]{0,61}[a-z0-9])?)$/.exec(cloudId);
  return m ? { zone: m[1]!, name: m[2]! } : undefined;
}

export function metadataItems(i: Pick<GceInstance, 'metadata'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of i.metadata?.items ?? []) if (it.key) out[it.key] = it.value ?? '';
  return out;
}

/** What ended the instance, when Compute says: a preemption or host-error operation. */
export type GceEnding = { kind: 'preempted' | 'host-failure'; at?: string; message?: string };

export function gceStatus(i: Pick<GceInstance, 'status' | 'statusMessage'>, ending?: GceEnding): InstanceStatus {
  const lifecycleStatus = STATUS[(i.status ?? 'PROVISIONING') as GceStatus] ?? 'failed';
  const messages = [i.statusMessage, ending?.message].filter((m): m is string => !!m);
  const ended = lifecycleStatus !== 'pending' && lifecycleStatus !== 'running';
  if (ended && ending) return { lifecycleStatus, messages, interruption: ending.kind };
  return { lifecycleStatus, messages };
}

function parseTags(raw: string | undefined): Tags {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

export function gcpInstance(i: GceInstance, opts: { testReplica: boolean; ending?: GceEnding; deleting?: boolean }): Instance {
  const zone = lastSegment(i.zone);
  const region = regionOfZone(zone);
  const name = i.name ?? 'unknown';
  const labels = i.labels ?? {};
  const meta = metadataItems(i);
  const type = lastSegment(i.machineType) || 'unknown';
  const status = gceStatus(i, opts.ending);
  // Compute shows a VM being deleted as STOPPING until it is gone: with a delete operation running, it is terminating.
  if (opts.deleting && (status.lifecycleStatus === 'stopping' || status.lifecycleStatus === 'stopped')) status.lifecycleStatus = 'terminating';
  const nic = i.networkInterfaces?.[0];
  const replicaPort = opts.testReplica ? Number(labels[REPLICA_LABEL_KEYS.sshPort] ?? '') : NaN;
  const spot = i.scheduling?.provisioningModel === 'SPOT' || i.scheduling?.preemptible === true;
  const bootGb = Number(i.disks?.find((d) => d.boot)?.diskSizeGb ?? NaN);
  return {
    name: meta[GCP_METADATA_KEYS.name] ?? name,
    refId: meta[GCP_METADATA_KEYS.refId] || labels[GCP_LABEL_KEYS.refId] || name,
    cloudCredRefId: meta[GCP_METADATA_KEYS.cloudCredRefId] || labels[GCP_LABEL_KEYS.cloudCredRefId] || 'unknown',
    createdAt: i.creationTimestamp ? new Date(i.creationTimestamp).toISOString() : new Date(0).toISOString(),
    cloudId: cloudIdOf(zone, name),
    publicIp: nic?.accessConfigs?.[0]?.natIP ?? '',
    publicDns: '',
    privateIp: nic?.networkIP ?? '',
    hostname: i.hostname ?? `${name}.${zone}.c.internal`,
    imageId: '',
    instanceType: type,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: region, subLocation: zone, instanceType: type }),
    ...(Number.isFinite(bootGb) && bootGb > 0 ? { diskSize: bytes(bootGb, 'GiB') } : {}),
    sshUser: (opts.testReplica ? labels[REPLICA_LABEL_KEYS.sshUser] : undefined) ?? DEFAULT_SSH_USER,
    sshPort: Number.isInteger(replicaPort) && replicaPort > 0 ? replicaPort : 22,
    status,
    spot,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: region,
    subLocation: zone,
    tags: parseTags(meta[GCP_METADATA_KEYS.tags]),
    stoppable: !spot,
    rebootable: true,
    isContainer: false,
    // The replica's machines are sshd processes of the test user: nothing to reconfigure as root.
    notPrivileged: opts.testReplica && labels[REPLICA_LABEL_KEYS.notPrivileged] === 'true',
    ...(status.lifecycleStatus === 'stopped' && i.lastStopTimestamp ? { terminatedAt: new Date(i.lastStopTimestamp).toISOString() } : {}),
  };
}

/**
 * A Spot VM Compute preempted and then deleted (`instanceTerminationAction: DELETE`): the
 * instance is gone (404), its `compute.instances.preempted` operation is what is left. The last
 * view of it is rebuilt from that: terminated, `interruption: preempted`, ended at the operation's end.
 */
export function preemptedInstance(last: Instance, op: { endTime?: string | null; insertTime?: string | null; statusMessage?: string | null }): Instance {
  const at = op.endTime ?? op.insertTime;
  return {
    ...last,
    publicIp: '',
    status: { lifecycleStatus: 'terminated', messages: [op.statusMessage ?? 'Instance was preempted.'], interruption: 'preempted' },
    ...(at ? { terminatedAt: new Date(at).toISOString() } : {}),
  };
}
