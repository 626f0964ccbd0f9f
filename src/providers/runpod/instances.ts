/**
 * RunPod pods as the contract's instances (pure functions).
 *
 * RunPod pods have a name but no tags, so what gpuflow must read back is kept in the pod's own
 * environment (RunPod returns it as "KEY=value" strings on every read): the refId, the
 * credential's refId, the contract instance type, when gpuflow created it, and the caller's tags.
 */
import { bytes } from '../sdk/bytes.js';
import { InvalidRequestError } from '../sdk/errors.js';
import type { Instance, InstanceStatus, Tags } from '../sdk/types.js';
import type { RunPodPodWire } from './api.js';
import { runpodTypeId } from './catalog.js';

/** Env keys the adapter writes at create and reads back. */
export const RUNPOD_IDENTITY_ENV = {
  refId: 'GPUFLOW_REF_ID',
  cloudCredRefId: 'GPUFLOW_CLOUD_CRED_REF_ID',
  instanceType: 'GPUFLOW_INSTANCE_TYPE',
  createdAt: 'GPUFLOW_CREATED_AT',
  tags: 'GPUFLOW_TAGS',
} as const;

/** The env var RunPod's images read the authorized SSH key from (with `startSsh`). */
export const RUNPOD_PUBLIC_KEY_ENV = 'PUBLIC_KEY';

/** Pod types that are interruptible (spot): RunPod says INTERRUPTABLE; older pods show BID. */
const SPOT_POD_TYPES = new Set(['INTERRUPTABLE', 'BID']);

/** "KEY=value" strings → a map (the first "=" splits; later ones belong to the value). */
export function parseRunPodEnv(env: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

export function encodeRunPodTags(tags: Tags): string {
  return JSON.stringify(tags);
}

export function parseRunPodTags(raw: string | undefined): Tags {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** The env of a create: the caller's variables, then ours (which win), as RunPod's `[{key, value}]`. */
export function runpodCreateEnv(args: {
  publicKey: string;
  additionalEnvVars: Record<string, string>;
  refId: string;
  cloudCredRefId: string;
  instanceType: string;
  createdAt: string;
  tags: Tags;
}): { key: string; value: string }[] {
  const ours: Record<string, string> = {
    [RUNPOD_PUBLIC_KEY_ENV]: args.publicKey.trim(),
    [RUNPOD_IDENTITY_ENV.refId]: args.refId,
    [RUNPOD_IDENTITY_ENV.cloudCredRefId]: args.cloudCredRefId,
    [RUNPOD_IDENTITY_ENV.instanceType]: args.instanceType,
    [RUNPOD_IDENTITY_ENV.createdAt]: args.createdAt,
    ...(Object.keys(args.tags).length ? { [RUNPOD_IDENTITY_ENV.tags]: encodeRunPodTags(args.tags) } : {}),
  };
  const clash = Object.keys(args.additionalEnvVars).filter((k) => k in ours);
  if (clash.length) throw new InvalidRequestError(`runpod: additionalEnvVars must not set ${clash.join(', ')} (the adapter sets them)`);
  return Object.entries({ ...args.additionalEnvVars, ...ours }).map(([key, value]) => ({ key, value }));
}

/**
 * RunPod's `desiredStatus` (and whether the container is up: `runtime` stays null until it is)
 * as the contract's status. An EXITED interruptible pod is a preemption: RunPod stops spot pods
 * when outbid or when the host is reclaimed (SIGTERM, then SIGKILL 5 s later), keeping the disk
 * so it can be resumed with a new bid. gpuflow never stops pods itself (stop is not declared).
 */
export function runpodStatus(p: Pick<RunPodPodWire, 'desiredStatus' | 'podType' | 'runtime' | 'lastStatusChange'>): InstanceStatus {
  const note = p.lastStatusChange ? [p.lastStatusChange] : [];
  switch (p.desiredStatus) {
    case 'CREATED':
      return { lifecycleStatus: 'pending', messages: note };
    case 'RUNNING':
      if (!p.runtime) return { lifecycleStatus: 'pending', messages: [...note, 'the container is starting'] };
      if (!sshPort(p.runtime.ports)) return { lifecycleStatus: 'pending', messages: [...note, 'waiting for the public SSH port'] };
      return { lifecycleStatus: 'running', messages: note };
    case 'RESTARTING':
      return { lifecycleStatus: 'pending', messages: [...note, 'the pod is restarting'] };
    case 'EXITED':
      if (SPOT_POD_TYPES.has(p.podType ?? '')) {
        return { lifecycleStatus: 'stopped', messages: [...note, 'runpod interrupted the spot pod'], interruption: 'preempted' };
      }
      return { lifecycleStatus: 'stopped', messages: note };
    case 'PAUSED':
      return { lifecycleStatus: 'stopped', messages: note };
    case 'DEAD':
      return { lifecycleStatus: 'failed', messages: note.length ? note : ['runpod reports the pod dead'] };
    case 'TERMINATED':
      return { lifecycleStatus: 'terminated', messages: note };
    default:
      return { lifecycleStatus: 'pending', messages: [...note, `unknown runpod status "${p.desiredStatus}"`] };
  }
}

type Ports = NonNullable<NonNullable<RunPodPodWire['runtime']>['ports']>;

/** The public mapping of the container's port 22, when RunPod has published one. */
export function sshPort(ports: Ports | null | undefined): { ip: string; port: number } | undefined {
  const p = (ports ?? []).find((x) => x.privatePort === 22 && (x.type ?? 'tcp') === 'tcp' && x.isIpPublic !== false && x.ip && x.publicPort);
  return p ? { ip: p.ip!, port: p.publicPort! } : undefined;
}

function realTime(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : undefined;
}

export function runpodInstance(p: RunPodPodWire, opts: { testReplica: boolean }): Instance {
  const env = parseRunPodEnv(p.env);
  const status = runpodStatus(p);
  const ssh = status.lifecycleStatus === 'running' ? sshPort(p.runtime?.ports) : undefined;
  const location = p.machine?.dataCenterId ?? '';
  const type = env[RUNPOD_IDENTITY_ENV.instanceType] ?? '';
  const uptimeStart = p.uptimeSeconds ? new Date(Date.now() - p.uptimeSeconds * 1000).toISOString() : undefined;
  return {
    name: p.name ?? '',
    refId: env[RUNPOD_IDENTITY_ENV.refId] || p.id,
    cloudCredRefId: env[RUNPOD_IDENTITY_ENV.cloudCredRefId] || 'unknown',
    createdAt: realTime(env[RUNPOD_IDENTITY_ENV.createdAt]) ?? uptimeStart ?? new Date(0).toISOString(),
    cloudId: p.id,
    publicIp: ssh?.ip ?? '',
    publicDns: '',
    privateIp: '',
    hostname: p.machine?.podHostId ?? '',
    imageId: p.imageName ?? '',
    instanceType: type || 'unknown',
    instanceTypeId: type && location ? runpodTypeId(type, location) : type || 'unknown',
    ...(p.containerDiskInGb ? { diskSize: bytes(p.containerDiskInGb, 'GB') } : {}),
    // RunPod's images log in as root; the replica's machines are the shared test host's user.
    sshUser: (opts.testReplica ? p.gpuflowReplica?.sshUser : undefined) || 'root',
    sshPort: ssh?.port ?? 0,
    status,
    spot: SPOT_POD_TYPES.has(p.podType ?? ''),
    firewallRules: { ingressRules: [], egressRules: [] },
    location: location || 'unknown',
    subLocation: '',
    tags: parseRunPodTags(env[RUNPOD_IDENTITY_ENV.tags]),
    stoppable: false,
    rebootable: false,
    // A pod is a Docker container: no host firewall or kernel state to change.
    isContainer: true,
    notPrivileged: true,
  };
}
