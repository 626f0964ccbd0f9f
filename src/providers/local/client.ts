/**
 * The local cloud adapter: the provider contract over the daemon's HTTP API. Every response is
 * validated with the contract's zod schemas; every failure is a typed CloudError; nothing is retried
 * here (Temporal retries durably).
 */
import { z } from 'zod';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  InstanceSchema,
  InstanceTypeSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  LocationSchema,
  TagsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Tags,
} from '../sdk/types.js';
import type { CreateInstanceBody, LocalCloudInfo } from './api.js';
import { callApi, type HttpTarget } from './http.js';

/** Exactly what this adapter implements. Not modify-firewall: instances share the host's network. */
export const LOCAL_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'create-instance-idempotent',
  'terminate-instance',
  'create-terminate-instance',
  'tags',
  'stop-start-instance',
  'reboot-instance',
];

const enc = encodeURIComponent;

/**
 * What the client needs of its credential (LocalCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface LocalClientCredential extends CloudCredential {
  readonly url: string;
  readonly token: string;
  readonly timeoutMs: number | undefined;
}

export class LocalClient extends CredentialBoundClient<LocalClientCredential> implements CloudClient {
  private readonly target: HttpTarget;

  constructor(
    credential: LocalClientCredential,
    location: string,
    private readonly settings: Pick<LocalCloudInfo, 'instancePollMs' | 'instanceTypePollMs' | 'maxCreateRequestsPerMinute'>,
  ) {
    super(credential, location);
    this.target = { url: credential.url, token: credential.token, timeoutMs: credential.timeoutMs };
  }

  // --- catalog ----------------------------------------------------------------------------------

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const { data } = await callApi(this.target, 'GET', '/v1/locations', z.array(LocationSchema), {
      query: args?.includeUnavailable ? [['includeUnavailable', 'true']] : [],
      notFound: 'resource',
    });
    return data ?? [];
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    const a = parsed.data;
    const query: [string, string][] = [];
    if (!isAllLocations(a.locations)) for (const l of a.locations!) query.push(['location', l]);
    for (const t of a.instanceTypes ?? []) query.push(['type', t]);
    const { data } = await callApi(this.target, 'GET', '/v1/instance-types', z.array(InstanceTypeSchema), { query, notFound: 'resource' });
    return (data ?? []).filter((it) => isSelectedByArgs(it, a));
  }

  getInstanceTypePollTimeMs(): number {
    return this.settings.instanceTypePollMs;
  }

  // --- instances: reads -------------------------------------------------------------------------

  async getInstance(cloudId: string): Promise<Instance> {
    const { data } = await callApi(this.target, 'GET', `/v1/instances/${enc(cloudId)}`, InstanceSchema);
    return data!;
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    const query: [string, string][] = [];
    if (!isAllLocations(a.locations)) for (const l of a.locations!) query.push(['location', l]);
    for (const id of a.instanceIds ?? []) query.push(['id', id]);
    for (const [k, values] of Object.entries(a.tagFilters ?? {})) for (const v of values) query.push([`tag.${k}`, v]);
    // An explicit empty ID list selects nothing (not everything).
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const { data } = await callApi(this.target, 'GET', '/v1/instances', z.array(InstanceSchema), { query, notFound: 'resource' });
    return data ?? [];
  }

  getInstancePollTimeMs(): number {
    return this.settings.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    const body: CreateInstanceBody = {
      refId: a.refId,
      cloudCredRefId: this.getReferenceId(),
      name: a.name,
      location: a.location,
      instanceType: a.instanceType,
      publicKey: a.publicKey,
      useSpot: a.useSpot,
      tags: a.tags,
      firewallRules: a.firewallRules,
      env: a.additionalEnvVars,
      imageId: a.imageId,
      userDataBase64: a.userDataBase64,
      ...(a.diskSize ? { diskSize: a.diskSize } : {}),
    };
    const { data } = await callApi(this.target, 'POST', '/v1/instances', InstanceSchema, { body });
    return data!;
  }

  /** Idempotent: a terminated or unknown instance is fine. */
  async terminateInstance(cloudId: string): Promise<void> {
    await callApi(this.target, 'DELETE', `/v1/instances/${enc(cloudId)}`, InstanceSchema.optional());
  }

  getMaxCreateRequestsPerMinute(): number {
    return this.settings.maxCreateRequestsPerMinute;
  }

  async stopInstance(cloudId: string): Promise<void> {
    await callApi(this.target, 'POST', `/v1/instances/${enc(cloudId)}/stop`, InstanceSchema);
  }

  async startInstance(cloudId: string): Promise<void> {
    await callApi(this.target, 'POST', `/v1/instances/${enc(cloudId)}/start`, InstanceSchema);
  }

  async rebootInstance(cloudId: string): Promise<void> {
    await callApi(this.target, 'POST', `/v1/instances/${enc(cloudId)}/reboot`, InstanceSchema);
  }

  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const tags = TagsSchema.safeParse(args.tags);
    if (!tags.success) throw invalidArgs('updateInstanceTags', tags.error);
    await callApi(this.target, 'PATCH', `/v1/instances/${enc(args.instanceId)}/tags`, InstanceSchema, { body: { tags: tags.data } });
  }
}
