/**
 * EC2 instances → the contract's instances: state, interruption, SSH endpoint and identity tags.
 *
 * - Identity: tags `Name`, `gpuflow-ref-id`, `gpuflow-cloud-cred-ref-id` (written with
 *   TagSpecifications at RunInstances, so an instance is never untagged), plus the caller's tags.
 * - State (`InstanceState.Name`): pending → pending, running → running, stopping → stopping,
 *   stopped → stopped, shutting-down → terminating, terminated → terminated. `StateReason.Code`
 *   `Server.SpotInstanceTermination` (or `...Shutdown` for stop behaviour) marks a spot instance
 *   AWS took back: `interruption: preempted`; `Server.InternalError` a host failure.
 */
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import type { Instance, InstanceStatus, LifecycleStatus, Tags } from '../sdk/types.js';
import { AWS_TAG_KEYS, DEFAULT_SSH_USER, HOST_FAILURE_REASONS, REPLICA_TAG_KEYS, SPOT_SHUTDOWN_REASON, SPOT_TERMINATION_REASON, type Ec2StateName } from './api.js';

/** The part of the SDK's `Instance` the adapter reads. */
export interface Ec2Instance {
  InstanceId?: string | undefined;
  InstanceType?: string | undefined;
  ImageId?: string | undefined;
  LaunchTime?: Date | undefined;
  State?: { Code?: number | undefined; Name?: string | undefined } | undefined;
  StateReason?: { Code?: string | undefined; Message?: string | undefined } | undefined;
  StateTransitionReason?: string | undefined;
  Placement?: { AvailabilityZone?: string | undefined } | undefined;
  PublicIpAddress?: string | undefined;
  PublicDnsName?: string | undefined;
  PrivateIpAddress?: string | undefined;
  PrivateDnsName?: string | undefined;
  InstanceLifecycle?: string | undefined;
  SpotInstanceRequestId?: string | undefined;
  Tags?: { Key?: string | undefined; Value?: string | undefined }[] | undefined;
}

const STATUS: Readonly<Record<Ec2StateName, LifecycleStatus>> = {
  pending: 'pending',
  running: 'running',
  'shutting-down': 'terminating',
  terminated: 'terminated',
  stopping: 'stopping',
  stopped: 'stopped',
};

export function ec2Tags(i: Pick<Ec2Instance, 'Tags'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of i.Tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function ec2Status(i: Pick<Ec2Instance, 'State' | 'StateReason' | 'InstanceLifecycle'>): InstanceStatus {
  const name = (i.State?.Name ?? 'pending') as Ec2StateName;
  const lifecycleStatus = STATUS[name] ?? 'failed';
  const reason = i.StateReason?.Code ?? '';
  const messages = i.StateReason?.Message ? [i.StateReason.Message] : [];
  const ended = lifecycleStatus === 'terminated' || lifecycleStatus === 'terminating' || lifecycleStatus === 'stopped' || lifecycleStatus === 'stopping';
  if (ended && (reason === SPOT_TERMINATION_REASON || reason === SPOT_SHUTDOWN_REASON)) return { lifecycleStatus, messages, interruption: 'preempted' };
  if (ended && (HOST_FAILURE_REASONS as readonly string[]).includes(reason)) return { lifecycleStatus, messages, interruption: 'host-failure' };
  return { lifecycleStatus, messages };
}

/** Region of a zone name: "us-east-1a" → "us-east-1" (local zones "us-east-1-bos-1a" → "us-east-1"). */
export function regionOfZone(zone: string): string {
  const m = /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)/.exec(zone);
  return m ? m[1]! : zone;
}

/** EC2 writes when a state change happened into `StateTransitionReason`: "User initiated (2026-12-03 15:04:05 GMT)". */
export function transitionTime(reason: string | undefined): string | undefined {
  const m = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason ?? '');
  return m ? new Date(`${m[1]}T${m[2]}Z`).toISOString() : undefined;
}

export function awsInstance(i: Ec2Instance, opts: { region: string; testReplica: boolean }): Instance {
  const tags = ec2Tags(i);
  const zone = i.Placement?.AvailabilityZone ?? '';
  const type = i.InstanceType ?? 'unknown';
  const status = ec2Status(i);
  const replicaPort = opts.testReplica ? Number(tags[REPLICA_TAG_KEYS.sshPort] ?? '') : NaN;
  const own: Tags = {};
  for (const [k, v] of Object.entries(tags)) if (k !== AWS_TAG_KEYS.name && !k.startsWith('gpuflow-replica:') && !k.startsWith('aws:')) own[k] = v;
  return {
    name: tags[AWS_TAG_KEYS.name] ?? '',
    refId: tags[AWS_TAG_KEYS.refId] || i.InstanceId || 'unknown',
    cloudCredRefId: tags[AWS_TAG_KEYS.cloudCredRefId] || 'unknown',
    createdAt: (i.LaunchTime ?? new Date(0)).toISOString(),
    cloudId: i.InstanceId ?? 'unknown',
    publicIp: i.PublicIpAddress ?? '',
    publicDns: i.PublicDnsName ?? '',
    privateIp: i.PrivateIpAddress ?? '',
    hostname: i.PrivateDnsName ?? '',
    imageId: i.ImageId ?? '',
    instanceType: type,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: opts.region, subLocation: zone, instanceType: type }),
    sshUser: (opts.testReplica ? tags[REPLICA_TAG_KEYS.sshUser] : undefined) ?? DEFAULT_SSH_USER,
    sshPort: Number.isInteger(replicaPort) && replicaPort > 0 ? replicaPort : 22,
    status,
    spot: i.InstanceLifecycle === 'spot',
    firewallRules: { ingressRules: [], egressRules: [] },
    location: opts.region,
    subLocation: zone,
    tags: own,
    stoppable: i.InstanceLifecycle !== 'spot',
    rebootable: true,
    isContainer: false,
    // The replica's machines are sshd processes of the test user: nothing to reconfigure as root.
    notPrivileged: opts.testReplica && tags[REPLICA_TAG_KEYS.notPrivileged] === 'true',
    ...(status.lifecycleStatus === 'terminated' && transitionTime(i.StateTransitionReason) ? { terminatedAt: transitionTime(i.StateTransitionReason)! } : {}),
  };
}
