/**
 * Shadeform instances → the contract's Instance (pure): status, the tags the adapter writes and
 * reads back, and the name an SSH key is registered under.
 */
import { createHash } from 'node:crypto';
import { bytes } from '../sdk/bytes.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { type Instance, type InstanceStatus, type Tags } from '../sdk/types.js';
import { type ShadeformInstanceWire } from './api.js';
import { shadeformTypeId, shadeformTypeName } from './catalog.js';

/** Tags the adapter writes and reads back. */
export const SHADEFORM_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
} as const;

export function shadeformStatus(status: string, details?: string | null): InstanceStatus {
  const messages = details ? [details] : [];
  switch (status) {
    case 'creating':
    case 'pending_provider':
    case 'pending':
      return { lifecycleStatus: 'pending', messages };
    case 'active':
      return { lifecycleStatus: 'running', messages };
    case 'error':
      return { lifecycleStatus: 'failed', messages: messages.length ? messages : ['shadeform reports an error'] };
    case 'deleting':
      return { lifecycleStatus: 'terminating', messages };
    case 'deleted':
      return { lifecycleStatus: 'terminated', messages };
    default:
      return { lifecycleStatus: 'pending', messages: [...messages, `unknown shadeform status "${status}"`] };
  }
}

/** "key=value" strings → tags (Brev's encoding); a string without "=" is a key with an empty value. */
export function parseShadeformTags(tags: readonly string[] | null | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) {
    const i = t.indexOf('=');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

export function encodeShadeformTags(tags: Tags): string[] {
  const bad = Object.keys(tags).filter((k) => k.includes('=') || k.length === 0);
  if (bad.length) throw new InvalidRequestError(`shadeform: tag keys must be non-empty and must not contain "=": ${bad.map((k) => JSON.stringify(k)).join(', ')}`);
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`);
}

/** A real timestamp, or undefined for absent ones and Go's zero time ("0001-01-01T00:00:00Z"). */
function realTime(s: string | null | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : undefined;
}

export function shadeformInstance(w: ShadeformInstanceWire, opts: { testReplica: boolean }): Instance {
  const tags = parseShadeformTags(w.tags);
  const status = shadeformStatus(w.status, w.status_details);
  const deletedAt = status.lifecycleStatus === 'terminated' ? realTime(w.deleted_at) : undefined;
  return {
    name: w.name,
    refId: tags[SHADEFORM_TAGS.refId] || w.id,
    cloudCredRefId: tags[SHADEFORM_TAGS.cloudCredRefId] || 'unknown',
    createdAt: realTime(w.created_at) ?? new Date(0).toISOString(),
    cloudId: w.id,
    publicIp: w.ip ?? '',
    publicDns: '',
    privateIp: '',
    hostname: '',
    imageId: w.configuration.os,
    instanceType: shadeformTypeName(w.cloud, w.shade_instance_type),
    instanceTypeId: shadeformTypeId(w.cloud, w.shade_instance_type, w.region),
    diskSize: bytes(w.configuration.storage_in_gb, 'GB'),
    sshUser: w.ssh_user ?? '',
    sshPort: w.ssh_port ?? 0,
    status,
    spot: false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: w.region,
    subLocation: '',
    tags,
    stoppable: false,
    rebootable: true,
    isContainer: false,
    notPrivileged: opts.testReplica ? (w.gpuflow_replica?.not_privileged ?? false) : false,
    ...(deletedAt ? { terminatedAt: deletedAt } : {}),
  };
}

/** A public key without its comment: what identifies the key. */
export function keyBody(k: string): string {
  return k.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The name the adapter registers a public key under: stable per key, so one key serves every instance. */
export function sshKeyNameFor(publicKey: string): string {
  return `gpuflow-${createHash('sha256').update(keyBody(publicKey)).digest('hex').slice(0, 16)}`;
}

// --- the client -----------------------------------------------------------------------------------
