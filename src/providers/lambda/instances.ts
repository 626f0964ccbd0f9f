/**
 * Lambda instances → the contract's Instance (pure): status, Brev's instance names, the tags the
 * adapter writes at launch and reads back, the SSH login of Lambda images.
 */
import { createHash } from 'node:crypto';
import { bytes } from '../sdk/bytes.js';
import { InvalidRequestError } from '../sdk/errors.js';
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import { type Instance, type InstanceStatus, type Tags } from '../sdk/types.js';
import { LAMBDA_NAME_MAX, LAMBDA_TAG_KEY, LAMBDA_TAG_KEY_MAX, LAMBDA_TAG_VALUE_MAX, type LambdaInstanceWire } from './api.js';

/** Tags the adapter writes at launch and reads back. */
export const LAMBDA_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  createdAt: 'gpuflow-created-at',
} as const;

/** Lambda images log in as ubuntu on port 22 (the API does not say; Brev hard-coded the same). */
export const LAMBDA_SSH_USER = 'ubuntu';
export const LAMBDA_SSH_PORT = 22;

/** Lambda status → contract status (Brev's map; `preempted` is an interruption, `unhealthy` still runs). */
export function lambdaStatus(status: string): InstanceStatus {
  switch (status) {
    case 'booting':
      return { lifecycleStatus: 'pending', messages: [] };
    case 'active':
      return { lifecycleStatus: 'running', messages: [] };
    case 'unhealthy':
      return { lifecycleStatus: 'running', messages: ['lambda reports the instance unhealthy'] };
    case 'terminating':
      return { lifecycleStatus: 'terminating', messages: [] };
    case 'terminated':
      return { lifecycleStatus: 'terminated', messages: [] };
    case 'preempted':
      return { lifecycleStatus: 'terminated', messages: ['lambda preempted the instance'], interruption: 'preempted' };
    case 'error':
      return { lifecycleStatus: 'failed', messages: ['lambda reports an error'] };
    default:
      return { lifecycleStatus: 'pending', messages: [`unknown lambda status "${status}"`] };
  }
}

/** Brev's instance name `{credRefId}--{2006-01-02-15-04-05Z07-00}` (UTC renders "Z"). */
const BREV_NAME = /^(.+)--(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})Z$/;

export function brevInstanceName(credRefId: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${credRefId}--${at.getUTCFullYear()}-${p(at.getUTCMonth() + 1)}-${p(at.getUTCDate())}-${p(at.getUTCHours())}-${p(at.getUTCMinutes())}-${p(at.getUTCSeconds())}Z`;
}

export function parseBrevInstanceName(name: string | null | undefined): { credRefId: string; createdAt: string } | undefined {
  const m = BREV_NAME.exec(name ?? '');
  if (!m) return undefined;
  const t = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  return Number.isFinite(t) ? { credRefId: m[1]!, createdAt: new Date(t).toISOString() } : undefined;
}

/** The SSH key name for a refId: the refId itself (Brev), or a hash of it when it is too long for a key name. */
export function sshKeyNameFor(refId: string): string {
  return refId.length <= LAMBDA_NAME_MAX ? refId : `gpuflow-${createHash('sha256').update(refId).digest('hex').slice(0, 32)}`;
}

function isoOrUndefined(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

export function lambdaInstance(w: LambdaInstanceWire, opts: { testReplica: boolean }): Instance {
  const tags: Tags = Object.fromEntries((w.tags ?? []).map((t) => [t.key, t.value]));
  const fromName = parseBrevInstanceName(w.name);
  const ext = opts.testReplica ? w.gpuflow_replica : undefined;
  const instanceType = w.instance_type.name;
  return {
    name: w.name ?? '',
    refId: tags[LAMBDA_TAGS.refId] || w.ssh_key_names[0] || w.id,
    cloudCredRefId: tags[LAMBDA_TAGS.cloudCredRefId] || fromName?.credRefId || 'unknown',
    createdAt: isoOrUndefined(tags[LAMBDA_TAGS.createdAt]) ?? fromName?.createdAt ?? new Date(0).toISOString(),
    cloudId: w.id,
    publicIp: w.ip ?? '',
    publicDns: '',
    privateIp: w.private_ip ?? '',
    hostname: w.hostname ?? '',
    imageId: '',
    instanceType,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: w.region.name, instanceType }),
    diskSize: bytes(w.instance_type.specs.storage_gib, 'GiB'),
    sshUser: ext?.ssh_user ?? LAMBDA_SSH_USER,
    sshPort: ext ? (ext.ssh_port ?? 0) : LAMBDA_SSH_PORT,
    status: lambdaStatus(w.status),
    spot: false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: w.region.name,
    subLocation: '',
    tags,
    stoppable: false,
    rebootable: true,
    isContainer: false,
    notPrivileged: ext?.not_privileged ?? false,
  };
}

/** Whether two OpenSSH public keys are the same key (type and body; comments may differ). */
export function sameKey(a: string, b: string): boolean {
  const kb = (s: string) => s.trim().split(/\s+/).slice(0, 2).join(' ');
  return kb(a) === kb(b);
}

/** Tags for the launch request, checked against Lambda's rules so a bad tag fails here, by name. */
export function launchTags(user: Tags, own: Record<string, string>): { key: string; value: string }[] {
  const all = { ...user, ...own };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(all)) {
    if (!LAMBDA_TAG_KEY.test(k) || k.length > LAMBDA_TAG_KEY_MAX) problems.push(`tag key "${k}" must match ${LAMBDA_TAG_KEY} and be at most ${LAMBDA_TAG_KEY_MAX} characters`);
    if (v.length > LAMBDA_TAG_VALUE_MAX) problems.push(`tag "${k}" value is longer than ${LAMBDA_TAG_VALUE_MAX} characters`);
  }
  if (problems.length) throw new InvalidRequestError(`lambda launch: ${problems.join('; ')}`);
  return Object.entries(all).map(([key, value]) => ({ key, value }));
}

// --- the client -----------------------------------------------------------------------------------
