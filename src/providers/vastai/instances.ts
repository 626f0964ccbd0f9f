/**
 * Vast.ai instances → the contract's instances: status, SSH endpoint, and identity in the label.
 *
 * Identity: Vast has no tags, only a free-text `label` (≤ 1024 characters, settable at create and
 * with `PUT /api/v0/instances/{id}/`). The adapter writes the name, refId, the credential's refId
 * and the caller's tags into it as a URL query string
 * (`gpuflow-name=job&gpuflow-ref-id=wl-1-0&gpuflow-cloud-cred-ref-id=vast&team=ml`) and reads them
 * back; a label without `gpuflow-ref-id` is someone else's and is only the name.
 */
import { InvalidRequestError } from '../sdk/errors.js';
import { bytes } from '../sdk/bytes.js';
import type { Instance, InstanceStatus, Tags } from '../sdk/types.js';
import type { VastInstanceWire } from './api.js';
import { vastTypeId, vastTypeName, vramGiB } from './catalog.js';
import { parseVastGeolocation } from './regions.js';

export const VASTAI_LABEL_KEYS = {
  name: 'gpuflow-name',
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
} as const;

/** Vast's limit on `label` (spec: maxLength 1024). */
export const VASTAI_LABEL_MAX = 1024;

export interface VastIdentity {
  name: string;
  refId: string;
  cloudCredRefId: string;
  tags: Tags;
}

/** Identity and tags as a label; the identity keys win over tags of the same name. */
export function encodeVastLabel(id: VastIdentity): string {
  const p = new URLSearchParams();
  p.set(VASTAI_LABEL_KEYS.name, id.name);
  for (const [k, v] of Object.entries(id.tags)) {
    if (k !== VASTAI_LABEL_KEYS.name && k !== VASTAI_LABEL_KEYS.refId && k !== VASTAI_LABEL_KEYS.cloudCredRefId) p.set(k, v);
  }
  p.set(VASTAI_LABEL_KEYS.refId, id.refId);
  p.set(VASTAI_LABEL_KEYS.cloudCredRefId, id.cloudCredRefId);
  const label = p.toString();
  if (label.length > VASTAI_LABEL_MAX) {
    throw new InvalidRequestError(`vastai: name, refId and tags take ${label.length} characters in the instance label; Vast allows ${VASTAI_LABEL_MAX} (use fewer or shorter tags)`);
  }
  return label;
}

/** The identity in a label, or undefined when the label is not one of ours. Tags include the identity keys (not the name). */
export function parseVastLabel(label: string | null | undefined): VastIdentity | undefined {
  if (!label || !label.includes(`${VASTAI_LABEL_KEYS.refId}=`)) return undefined;
  const p = new URLSearchParams(label);
  const refId = p.get(VASTAI_LABEL_KEYS.refId);
  if (!refId) return undefined;
  const tags: Tags = {};
  for (const [k, v] of p) if (k !== VASTAI_LABEL_KEYS.name) tags[k] = v;
  return { name: p.get(VASTAI_LABEL_KEYS.name) ?? '', refId, cloudCredRefId: p.get(VASTAI_LABEL_KEYS.cloudCredRefId) ?? '', tags };
}

const OUTBID = 'outbid: Vast paused this interruptible instance for a higher bid or an on-demand rental (disk kept; it resumes when its bid wins again)';

/**
 * `actual_status` (cli/reference/show-instance) with `intended_status` and `is_bid`:
 * null, loading, created, rebooting → pending; running → running (stopping when a stop was asked);
 * stopped → stopped when asked, **preempted** (stopped, interruption `preempted`) for an
 * interruptible instance that still intends to run (outbid), else pending (starting);
 * frozen → suspended; exited (container crashed), unknown (no heartbeat), offline (host gone) →
 * failed: the spec's "poll trap", they never reach running.
 */
export function vastStatus(w: Pick<VastInstanceWire, 'actual_status' | 'intended_status' | 'is_bid' | 'status_msg'>): InstanceStatus {
  const messages = w.status_msg ? [w.status_msg] : [];
  const intended = w.intended_status ?? 'running';
  switch (w.actual_status ?? null) {
    case null:
    case 'loading':
    case 'created':
    case 'scheduling':
    case 'rebooting':
      return { lifecycleStatus: 'pending', messages };
    case 'running':
      return { lifecycleStatus: intended === 'stopped' ? 'stopping' : 'running', messages };
    case 'stopped':
      if (intended === 'stopped') return { lifecycleStatus: 'stopped', messages };
      if (w.is_bid) return { lifecycleStatus: 'stopped', messages: [...messages, OUTBID], interruption: 'preempted' };
      return { lifecycleStatus: 'pending', messages };
    case 'frozen':
      return { lifecycleStatus: 'suspended', messages };
    case 'exited':
      return { lifecycleStatus: 'failed', messages: messages.length ? messages : ['the container exited'] };
    case 'offline':
      return { lifecycleStatus: 'failed', messages: [...messages, 'the host is offline'], interruption: 'host-failure' };
    case 'unknown':
      return { lifecycleStatus: 'failed', messages: [...messages, 'no heartbeat from the host'] };
    default:
      return { lifecycleStatus: 'pending', messages: [...messages, `unknown vastai status "${w.actual_status}"`] };
  }
}

/** Direct SSH (runtype ssh_direct: the public IP and the host port mapped to 22/tcp), else Vast's SSH proxy. */
export function vastSshEndpoint(w: Pick<VastInstanceWire, 'ports' | 'public_ipaddr' | 'ssh_host' | 'ssh_port'>): { host: string; port: number; dns: string } {
  const direct = w.ports?.['22/tcp']?.[0]?.HostPort;
  const ip = (w.public_ipaddr ?? '').trim();
  if (direct && ip && Number(direct) > 0) return { host: ip, port: Number(direct), dns: w.ssh_host ?? '' };
  if (w.ssh_host && w.ssh_port) return { host: w.ssh_host, port: w.ssh_port, dns: w.ssh_host };
  return { host: ip, port: 0, dns: w.ssh_host ?? '' };
}

export function vastInstance(w: VastInstanceWire, opts: { testReplica: boolean }): Instance {
  const id = parseVastLabel(w.label);
  const geo = parseVastGeolocation(w.geolocation, w.country_code);
  const location = geo?.alpha2 ?? 'unknown';
  const type = vastTypeName({ numGpus: w.num_gpus, gpuName: w.gpu_name, vramGiB: vramGiB(w.gpu_ram) });
  const ssh = vastSshEndpoint(w);
  return {
    name: id ? id.name : (w.label ?? ''),
    refId: id?.refId || String(w.id),
    cloudCredRefId: id?.cloudCredRefId || 'unknown',
    createdAt: new Date(typeof w.start_date === 'number' && w.start_date > 0 ? Math.round(w.start_date * 1000) : 0).toISOString(),
    cloudId: String(w.id),
    publicIp: ssh.host,
    publicDns: ssh.dns,
    privateIp: '',
    hostname: '',
    imageId: w.image_uuid ?? '',
    instanceType: type,
    instanceTypeId: vastTypeId(location, type),
    ...(typeof w.disk_space === 'number' && w.disk_space > 0 ? { diskSize: bytes(Math.floor(w.disk_space), 'GB') } : {}),
    // Vast containers log in as root; the replica's machines are sshd processes of the test user.
    sshUser: (opts.testReplica ? w.gpuflow_replica?.ssh_user : undefined) ?? 'root',
    sshPort: ssh.port,
    status: vastStatus(w),
    spot: w.is_bid ?? false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location,
    subLocation: '',
    tags: id?.tags ?? {},
    stoppable: true,
    rebootable: true,
    // Every Vast instance is a Docker container on a host gpuflow must not reconfigure.
    isContainer: true,
    notPrivileged: true,
  };
}
