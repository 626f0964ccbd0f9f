/**
 * The SSH fleet's "wire": what ./hostScript.ts prints on a host (tab-separated records) and the
 * lease record the adapter writes there (lease.json). Validated with zod like any provider API.
 */
import { z } from 'zod';
import { TagsSchema } from '../sdk/types.js';
import type { Capability } from '../sdk/capabilities.js';

export const SSH_FLEET_PROVIDER_ID = 'ssh-fleet';

/** What the adapter writes into a lease's lease.json: the instance's identity, read back on every listing. */
export const LeaseRecordSchema = z
  .object({
    v: z.literal(1),
    refId: z.string().min(1),
    cloudCredRefId: z.string().min(1),
    name: z.string(),
    instanceType: z.string().min(1),
    instanceTypeId: z.string().min(1),
    location: z.string().min(1),
    createdAt: z.iso.datetime(),
    tags: TagsSchema,
  })
  .strict();
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

/** One `nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits` line. */
export const NvidiaGpuLineSchema = z.object({ index: z.number().int().nonnegative(), name: z.string().min(1), memoryMiB: z.number().int().nonnegative() });

/** A GPU of a host as discovered (or declared in the connection). */
export interface HostGpu {
  index: number;
  /** As the tool reports it, e.g. "NVIDIA A100-SXM4-80GB", "AMD Instinct MI300X". */
  productName: string;
  memoryMiB: number;
  vendor: 'NVIDIA' | 'AMD';
}

/** A lease as the host reports it. */
export interface HostLease {
  leaseId: string;
  gpus: number[];
  port: number;
  /** Its sshd runs. */
  alive: boolean;
  record: LeaseRecord;
}

/** One `state` answer of a host. */
export interface HostState {
  arch: string;
  vcpu: number;
  memoryKiB: number;
  /** Where the host's sshd binary is ("" when none: leases cannot start). */
  sshd: string;
  gpus: HostGpu[];
  leases: HostLease[];
  /** Lease directories whose record does not parse (reported, never reused). */
  badLeases: string[];
}

/** Exactly what this adapter implements: no stop/start or reboot (the machines are not ours to power). */
export const SSH_FLEET_CAPABILITIES: readonly Capability[] = ['create-instance', 'create-instance-idempotent', 'terminate-instance', 'create-terminate-instance'];
