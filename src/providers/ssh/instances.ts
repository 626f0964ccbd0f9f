/** Leases → the contract's Instance (pure). A lease is an instance: its own sshd on the host, its GPUs. */
import type { Instance, LifecycleStatus } from '../sdk/types.js';
import type { HostLease } from './api.js';

/** `<leaseId>@<host name>`: the host is where getInstance and terminate go. */
export function fleetCloudId(leaseId: string, hostName: string): string {
  return `${leaseId}@${hostName}`;
}

export function parseFleetCloudId(cloudId: string): { leaseId: string; hostName: string } | undefined {
  const m = /^([0-9a-f]{8,64})@(.+)$/.exec(cloudId);
  return m ? { leaseId: m[1]!, hostName: m[2]! } : undefined;
}

export function fleetInstance(
  lease: HostLease,
  host: { name: string; host: string; user: string },
  status: { lifecycleStatus: LifecycleStatus; messages?: string[]; interruption?: 'host-failure' },
): Instance {
  const r = lease.record;
  return {
    name: r.name,
    refId: r.refId,
    cloudCredRefId: r.cloudCredRefId,
    createdAt: r.createdAt,
    cloudId: fleetCloudId(lease.leaseId, host.name),
    publicIp: host.host,
    publicDns: '',
    privateIp: host.host,
    hostname: host.name,
    imageId: '',
    instanceType: r.instanceType,
    instanceTypeId: r.instanceTypeId,
    sshUser: host.user,
    sshPort: lease.port,
    status: { lifecycleStatus: status.lifecycleStatus, messages: status.messages ?? [`GPUs ${lease.gpus.join(',')} of ${host.name}`], ...(status.interruption ? { interruption: status.interruption } : {}) },
    spot: false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: r.location,
    subLocation: '',
    tags: { ...r.tags },
    stoppable: false,
    rebootable: false,
    isContainer: false,
    // A shared machine: the workload must not change its firewall or kernel.
    notPrivileged: true,
  };
}
