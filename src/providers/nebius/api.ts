/**
 * Nebius AI Cloud's Compute API model: the published protos (github.com/nebius/api, vendored in
 * ./protos, see ./protos/README.md) loaded with @grpc/proto-loader, and the message shapes the
 * adapter reads and writes (proto-loader's JS mapping: camelCase fields, enums as strings, int64
 * as strings, oneofs named in a virtual field).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GrpcObject, ServiceClientConstructor } from '@grpc/grpc-js';
import type { Options } from '@grpc/proto-loader';

export const NEBIUS_PROVIDER_ID = 'nebius';
/** Compute's public endpoint (Nebius routes each service by its own host). */
export const DEFAULT_NEBIUS_ENDPOINT = 'compute.api.nebius.cloud:443';
/** The vendored protos: next to this file under src/, or (compiled to dist/) in the package's src/ copy. */
export const PROTO_DIR = existsSync(join(import.meta.dirname, 'protos')) ? join(import.meta.dirname, 'protos') : join(import.meta.dirname, '..', '..', '..', 'src', 'providers', 'nebius', 'protos');
export const PROTO_FILES = ['nebius/compute/v1/instance_service.proto', 'nebius/common/v1/operation_service.proto'];
/** How the adapter and the replica map messages to JS: both use the same, so they agree on shapes. */
export const PROTO_LOADER_OPTIONS: Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };

/** The services, loaded once (proto-loader parses ~15 files). */
export interface NebiusServices {
  InstanceService: ServiceClientConstructor;
  OperationService: ServiceClientConstructor;
}
let services: Promise<NebiusServices> | undefined;
export function loadNebiusServices(): Promise<NebiusServices> {
  services ??= (async () => {
    const [grpc, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
    const def = await loader.load(PROTO_FILES, PROTO_LOADER_OPTIONS);
    const root = grpc.loadPackageDefinition(def) as unknown as { nebius: { compute: { v1: GrpcObject }; common: { v1: GrpcObject } } };
    return { InstanceService: root.nebius.compute.v1.InstanceService as ServiceClientConstructor, OperationService: root.nebius.common.v1.OperationService as ServiceClientConstructor };
  })();
  return services;
}

/** Default boot image family: Nebius's Ubuntu 22.04 with CUDA 12 drivers (its public image families; `imageFamily` overrides). */
export const DEFAULT_IMAGE_FAMILY = 'ubuntu22.04-cuda12';
export const DEFAULT_SSH_USER = 'gpuflow';
export const DEFAULT_BOOT_DISK_GIB = 200;

/** Identity labels written at create. Nebius label values are free strings up to 63 characters; longer ones are hashed. */
export const NEBIUS_LABEL_KEYS = { refId: 'gpuflow-ref-id', cloudCredRefId: 'gpuflow-cloud-cred-ref-id', name: 'gpuflow-name' } as const;
/** Labels the replica adds to its instances (read only with testReplica): the backing sshd's port and user. */
export const REPLICA_LABEL_KEYS = { sshPort: 'gpuflow-replica-ssh-port', sshUser: 'gpuflow-replica-ssh-user' } as const;

export interface ResourceMetadata {
  id: string;
  parentId: string;
  name: string;
  resourceVersion?: string;
  createdAt?: { seconds: string; nanos: number } | null;
  updatedAt?: { seconds: string; nanos: number } | null;
  labels: Record<string, string>;
}

export type InstanceState = 'UNSPECIFIED' | 'CREATING' | 'UPDATING' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'DELETING' | 'ERROR';

export interface NebiusInstance {
  metadata: ResourceMetadata | null;
  spec: {
    resources: { platform: string; preset?: string } | null;
    bootDisk?: { managedDisk?: { spec?: { sizeGibibytes?: string } | null } | null } | null;
    cloudInitUserData?: string;
    stopped?: boolean;
    preemptible?: { onPreemption: string } | null;
    hostname?: string;
  } | null;
  status: {
    state: InstanceState;
    reconciling?: boolean;
    networkInterfaces?: { ipAddress?: { address?: string } | null; publicIpAddress?: { address?: string } | null }[];
  } | null;
}

export interface NebiusOperation {
  id: string;
  description?: string;
  resourceId: string;
  createdAt?: { seconds: string; nanos: number } | null;
  finishedAt?: { seconds: string; nanos: number } | null;
  status?: { code: number; message: string; details?: unknown[] } | null;
}

/** A protobuf Timestamp as ISO time, or undefined. */
export function isoOf(t: { seconds: string | number; nanos?: number } | null | undefined): string | undefined {
  if (!t) return undefined;
  const ms = Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  return ms > 0 ? new Date(ms).toISOString() : undefined;
}
