/**
 * The Azure VMs adapter: the provider contract over Azure Resource Manager through
 * @azure/arm-compute and @azure/arm-network (tokens from @azure/identity).
 *
 * - Catalog (./catalog.ts): the Resource SKUs API per configured region; prices from the price file.
 * - Create: the VM's name is derived from the refId and region, so a repeated create finds the VM
 *   already there (GET first; the PUT carries `If-None-Match: *`, so a concurrent twin gets 412
 *   and reads the winner's VM). Per VM a Standard static public IP and a NIC in the region's
 *   virtual network `gpuflow-<region>` (created on first use), both with `deleteOption: Delete`;
 *   the SSH key in `osProfile.linuxConfiguration.ssh.publicKeys` (password login off), identity in
 *   tags, spot as `priority: Spot`, `evictionPolicy: Delete`, `billingProfile.maxPrice: -1` (pay
 *   up to the on-demand price, never evicted for price). The PUT's long-running operation
 *   (`Azure-AsyncOperation`) is waited for, since AllocationFailed lands in its final status; a
 *   failed create's VM, NIC and IP are deleted before the error is thrown.
 * - Eviction: see ./instances.ts.
 * - Errors (./errors.ts): SkuNotAvailable blocks the offer, AllocationFailed the region,
 *   quota the region, credentials the provider; throttling (Retry-After) and 5xx are retried.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { InstanceNotFoundError, InvalidRequestError, isCloudError, ResourceNotFoundError, ServiceUnavailableError } from '../sdk/errors.js';
import { byteCountIn } from '../sdk/bytes.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  TagsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Tags,
} from '../sdk/types.js';
import { AZURE_TAG_KEYS, DEFAULT_SSH_USER, MAX_TAG_VALUE, MAX_TAGS, TAG_KEY_RE, VM_NAME_RE } from './api.js';
import { azureInstanceTypes, parseAzurePriceCsv, type AzurePriceRow, type AzureResourceSku } from './catalog.js';
import type { AzureClients, AzureCredential } from './credential.js';
import { asInstanceNotFound, callAzure } from './errors.js';
import { azureInstance, cloudIdOf, evictedInstance, parseCloudId, resourceGroupOf, vmStates, type AzureVm } from './instances.js';
import { AZURE_REGIONS, azureRegionCountry } from './regions.js';

/**
 * Exactly what this adapter implements. Not declared: stop-start-instance (Spot VMs are deleted on
 * eviction; on-demand deallocate/start is not wired), modify-firewall (no NSG is managed: the
 * subnet's default rules apply), machine-image, vpc.
 */
export const AZURE_CAPABILITIES: readonly Capability[] = ['create-instance', 'create-instance-idempotent', 'terminate-instance', 'create-terminate-instance', 'instance-userdata', 'tags', 'reboot-instance'];

/** ARM's write limit is per subscription per hour (1200 writes/h by default): a create is ~3 writes. */
const MAX_CREATES_PER_MINUTE = 6;
/** The address space of each region's virtual network (one /16, a /24 subnet). */
const VNET_PREFIX = '10.77.0.0/16';
const SUBNET_PREFIX = '10.77.0.0/24';

/** The VM name for a refId in a region: `gpuflow-` + readable part of the name + a hash of both (≤ 64). */
export function vmNameFor(refId: string, region: string, name = ''): string {
  const hash = createHash('sha256').update(`${region}\u0000${refId}`).digest('hex').slice(0, 16);
  const readable = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  const n = readable ? `gpuflow-${readable}-${hash}` : `gpuflow-${hash}`;
  if (!VM_NAME_RE.test(n)) throw new Error(`internal: VM name ${n} is not a valid Azure VM name`);
  return n;
}

export const nicNameFor = (vm: string) => `${vm}-nic`;
export const ipNameFor = (vm: string) => `${vm}-ip`;
export const vnetNameFor = (region: string) => `gpuflow-${region}`;

/** `publisher:offer:sku:version` → ARM's `imageReference`. */
export function imageReference(urn: string): { publisher: string; offer: string; sku: string; version: string } {
  const [publisher, offer, sku, version] = urn.split(':') as [string, string, string, string];
  return { publisher, offer, sku, version };
}

/** The caller's tags Azure accepts (key ≤ 512 without <>%&\?/, value ≤ 256), with gpuflow's identity tags (≤ 50 in all). */
export function vmTags(user: Tags, identity: { refId: string; cloudCredRefId: string; name: string }): Record<string, string> {
  const ours = { [AZURE_TAG_KEYS.refId]: identity.refId, [AZURE_TAG_KEYS.cloudCredRefId]: identity.cloudCredRefId, [AZURE_TAG_KEYS.name]: identity.name };
  for (const [k, v] of Object.entries(ours)) if (v.length > MAX_TAG_VALUE) throw new InvalidRequestError(`azure: ${k} "${v.slice(0, 40)}…" is longer than Azure's ${MAX_TAG_VALUE}-character tag values`);
  const fit = Object.entries(user).filter(([k, v]) => TAG_KEY_RE.test(k) && v.length <= MAX_TAG_VALUE && !(k in ours));
  if (fit.length + 3 > MAX_TAGS) throw new InvalidRequestError(`azure: ${fit.length} tags and gpuflow's 3 exceed Azure's ${MAX_TAGS} tags per resource`);
  return { ...Object.fromEntries(fit), ...ours };
}

export class AzureClient extends CredentialBoundClient<AzureCredential> implements CloudClient {
  readonly #regions: readonly string[];
  #prices: AzurePriceRow[] | undefined;
  /** The last view of each VM read, to report an evicted-then-deleted Spot VM. */
  readonly #lastSeen = new Map<string, Instance>();
  /** VMs this client asked Azure to delete. */
  readonly #deleting = new Set<string>();
  readonly #vnets = new Map<string, Promise<string>>();

  constructor(credential: AzureCredential, location: string, regions: readonly string[]) {
    super(credential, location);
    this.#regions = regions;
  }

  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  getMaxCreateRequestsPerMinute(): number {
    return MAX_CREATES_PER_MINUTE;
  }

  private get rg(): string {
    return this.credential.resourceGroup;
  }

  private call<T>(method: string, region: string | undefined, fn: (c: AzureClients) => Promise<T>): Promise<T> {
    return this.credential.clients().then((c) =>
      callAzure(() => fn(c), {
        what: `azure ${region ?? this.credential.subscriptionId} ${method}`,
        method,
        ...(region ? { region } : {}),
        logger: this.credential.logger(),
        maxAttempts: this.credential.maxAttempts,
        backoffMs: this.credential.backoffMs,
      }),
    );
  }

  private lro() {
    return { updateIntervalInMs: this.credential.pollIntervalMs };
  }

  private prices(): AzurePriceRow[] {
    if (!this.#prices) {
      let text: string;
      try {
        text = readFileSync(this.credential.catalogFile, 'utf8');
      } catch (e) {
        throw new InvalidRequestError(`azure: no price catalog at ${this.credential.catalogFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ARM has no price API; set the connection's catalogFile to a file in SkyPilot's Azure vms.csv layout`);
      }
      this.#prices = parseAzurePriceCsv(text);
    }
    return this.#prices;
  }

  private regionFor(location: string): string {
    if (!this.#regions.includes(location)) throw new InvalidRequestError(`azure: location "${location}" is not a region of this client (${this.#regions.join(', ')}); use a region the connection lists`);
    return location;
  }

  private skus(region: string): Promise<AzureResourceSku[]> {
    return this.call('resourceSkus.list', region, async (c) => {
      const out: AzureResourceSku[] = [];
      for await (const s of c.compute.resourceSkus.list({ filter: `location eq '${region}'` })) out.push(s as AzureResourceSku);
      return out;
    });
  }

  /** Configured regions; unavailable when the Resource SKUs API lists no VM size there. */
  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locations = await Promise.all(
      this.#regions.map(async (r): Promise<Location | undefined> => {
        const country = azureRegionCountry(r);
        if (!country) return undefined;
        const skus = await this.skus(r);
        return { name: r, description: AZURE_REGIONS[r]!.location, available: skus.some((s) => s.resourceType === 'virtualMachines'), priority: 0, country, endpoint: this.credential.endpoint ?? 'https://management.azure.com' };
      }),
    );
    const all = locations.filter((l): l is Location => !!l);
    return args?.includeUnavailable ? all : all.filter((l) => l.available);
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const p = GetInstanceTypesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('azure getInstanceTypes', p.error);
    const a = p.data;
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    const prices = this.prices();
    const perRegion = await Promise.all(regions.map(async (region) => azureInstanceTypes({ region, skus: await this.skus(region), prices })));
    return perRegion.flat().filter((t) => isSelectedByArgs(t, a));
  }

  /** The region's virtual network and subnet (PUT is idempotent); its subnet ID. */
  private subnetId(region: string): Promise<string> {
    let p = this.#vnets.get(region);
    if (!p) {
      p = this.call('virtualNetworks.createOrUpdate', region, async (c) => {
        const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
          this.rg,
          vnetNameFor(region),
          { location: region, addressSpace: { addressPrefixes: [VNET_PREFIX] }, subnets: [{ name: 'default', addressPrefix: SUBNET_PREFIX }], tags: { 'gpuflow-managed': 'true' } },
          this.lro(),
        );
        const id = vnet.subnets?.find((s) => s.name === 'default')?.id;
        if (!id) throw new ServiceUnavailableError(`azure ${region}: virtual network ${vnetNameFor(region)} has no subnet "default" after its PUT`);
        return id;
      });
      p.catch(() => this.#vnets.delete(region));
      this.#vnets.set(region, p);
    }
    return p;
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const p = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!p.success) throw invalidArgs('azure createInstance', p.error);
    const a = p.data;
    const region = this.regionFor(a.location);
    const name = vmNameFor(a.refId, region, a.name);
    const cloudId = cloudIdOf(this.rg, name);
    // A VM of that name is this refId's, made by an earlier try.
    const prior = await this.getInstance(cloudId).catch((e: unknown) => {
      if (e instanceof InstanceNotFoundError) return undefined;
      throw e;
    });
    if (prior && prior.refId !== a.refId) throw new InvalidRequestError(`azure ${region}: VM ${name} exists for another refId (${prior.refId})`);
    if (prior && prior.status.lifecycleStatus !== 'failed') return prior;
    if (prior) await this.cleanUp(region, name);

    const tags = vmTags(a.tags ?? {}, { refId: a.refId, cloudCredRefId: this.getReferenceId(), name: a.name || a.refId });
    const subnet = await this.subnetId(region);
    const ip = await this.call('publicIPAddresses.createOrUpdate', region, (c) =>
      c.network.publicIPAddresses.beginCreateOrUpdateAndWait(this.rg, ipNameFor(name), { location: region, sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static', deleteOption: 'Delete', tags }, this.lro()),
    );
    const nic = await this.call('networkInterfaces.createOrUpdate', region, (c) =>
      c.network.networkInterfaces.beginCreateOrUpdateAndWait(
        this.rg,
        nicNameFor(name),
        { location: region, ipConfigurations: [{ name: 'ipconfig1', subnet: { id: subnet }, privateIPAllocationMethod: 'Dynamic', publicIPAddress: { id: ip.id!, deleteOption: 'Delete' } }], tags },
        this.lro(),
      ),
    );
    const diskGb = a.diskSize ? Math.max(30, byteCountIn(a.diskSize, 'GiB')) : undefined;
    const vm = {
      location: region,
      tags,
      hardwareProfile: { vmSize: a.instanceType },
      storageProfile: {
        imageReference: imageReference(a.imageId || this.credential.image),
        osDisk: { createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: 'Premium_LRS' }, ...(diskGb ? { diskSizeGB: diskGb } : {}) },
      },
      osProfile: {
        computerName: name,
        adminUsername: DEFAULT_SSH_USER,
        linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [{ path: `/home/${DEFAULT_SSH_USER}/.ssh/authorized_keys`, keyData: a.publicKey.trim() }] } },
      },
      networkProfile: { networkInterfaces: [{ id: nic.id!, primary: true, deleteOption: 'Delete' }] },
      ...(a.userDataBase64 ? { userData: a.userDataBase64 } : {}),
      ...(a.useSpot ? { priority: 'Spot', evictionPolicy: 'Delete', billingProfile: { maxPrice: -1 } } : { priority: 'Regular' }),
    };
    try {
      await this.call('virtualMachines.createOrUpdate', region, async (c) => {
        const poller = c.compute.virtualMachines.createOrUpdate(this.rg, name, vm as never, { ...this.lro(), ifNoneMatch: '*' });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ServiceUnavailableError(`azure ${region}: VM ${name} not created within ${this.credential.operationTimeoutMs} ms`)), this.credential.operationTimeoutMs);
        });
        try {
          return await Promise.race([poller.pollUntilDone(), timeout]);
        } finally {
          clearTimeout(timer);
        }
      });
    } catch (e) {
      // A concurrent create of the same refId won the PUT: its VM is this create's answer.
      if (isCloudError(e) && /PreconditionFailed|HTTP 412/.test(e.message)) return this.getInstance(cloudId);
      // Capacity, quota and other refusals leave a Failed VM (and its NIC and IP): remove them.
      await this.cleanUp(region, name).catch((c: unknown) => this.credential.logger().warn({ vm: name, err: (c as Error).message }, 'azure cleanup after a failed create did not finish'));
      throw e;
    }
    return this.getInstance(cloudId);
  }

  /** Deletes a VM and then its NIC and public IP, waiting for each (a NIC cannot go while its VM exists). */
  private async cleanUp(region: string, name: string): Promise<void> {
    const gone = (e: unknown) => {
      if (e instanceof ResourceNotFoundError) return;
      throw e;
    };
    await this.call('virtualMachines.delete', region, (c) => c.compute.virtualMachines.delete(this.rg, name, this.lro()).pollUntilDone()).catch(gone);
    await this.call('networkInterfaces.delete', region, (c) => c.network.networkInterfaces.beginDeleteAndWait(this.rg, nicNameFor(name), this.lro())).catch(gone);
    await this.call('publicIPAddresses.delete', region, (c) => c.network.publicIPAddresses.beginDeleteAndWait(this.rg, ipNameFor(name), this.lro())).catch(gone);
  }

  /** The VM's private and public IP, from its NIC and public IP (names derived from the VM's). */
  private async addresses(region: string, name: string): Promise<{ publicIp: string; privateIp: string }> {
    const [nic, ip] = await Promise.all([
      this.call('networkInterfaces.get', region, (c) => c.network.networkInterfaces.get(this.rg, nicNameFor(name))).catch(() => undefined),
      this.call('publicIPAddresses.get', region, (c) => c.network.publicIPAddresses.get(this.rg, ipNameFor(name))).catch(() => undefined),
    ]);
    return { privateIp: nic?.ipConfigurations?.[0]?.privateIPAddress ?? '', publicIp: ip?.ipAddress ?? '' };
  }

  private view(raw: AzureVm, cloudId: string, addr: { publicIp: string; privateIp: string }): Instance {
    const { power } = vmStates(raw);
    // A Spot VM going down that this client did not delete: Azure is evicting it.
    const preempted = raw.priority === 'Spot' && !this.#deleting.has(cloudId) && (power === 'deallocating' || power === 'deallocated');
    const inst = azureInstance(raw, { testReplica: this.credential.testReplica, ...addr, preempted, deleting: this.#deleting.has(cloudId) && !preempted });
    this.#lastSeen.set(cloudId, inst);
    return inst;
  }

  async getInstance(cloudId: string): Promise<Instance> {
    const id = parseCloudId(cloudId);
    if (!id || id.resourceGroup !== this.rg) throw new InstanceNotFoundError(`azure: ${cloudId} is not a VM ID of this connection (<resourceGroup>/<vmName> in ${this.rg})`);
    let raw: AzureVm;
    try {
      raw = (await this.call('virtualMachines.get', undefined, (c) => c.compute.virtualMachines.get(this.rg, id.name, { expand: 'instanceView' }))) as AzureVm;
    } catch (e) {
      if (!(e instanceof ResourceNotFoundError)) throw isCloudError(e) ? asInstanceNotFound(e) : e;
      const last = this.#lastSeen.get(cloudId);
      // Gone without a delete from us: a Spot VM Azure evicted (evictionPolicy Delete).
      if (last?.spot && !this.#deleting.has(cloudId)) {
        const ev = last.status.interruption === 'preempted' && last.terminatedAt ? last : evictedInstance(last);
        this.#lastSeen.set(cloudId, ev);
        return ev;
      }
      throw asInstanceNotFound(e);
    }
    const region = (raw.location ?? '').toLowerCase();
    return this.view(raw, cloudId, await this.addresses(region, id.name));
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const p = ListInstancesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('azure listInstances', p.error);
    const a = p.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    const [vms, nics, ips] = await Promise.all([
      this.call('virtualMachines.list', undefined, async (c) => {
        const out: AzureVm[] = [];
        // The subscription's list with statusOnly=true carries each VM's instanceView (power state);
        // the resource group's list cannot ($expand=instanceView needs a VMSS $filter there).
        for await (const v of c.compute.virtualMachines.listAll({ statusOnly: 'true' })) if (resourceGroupOf(v.id).toLowerCase() === this.rg.toLowerCase()) out.push(v as AzureVm);
        return out;
      }),
      this.call('networkInterfaces.list', undefined, async (c) => {
        const out = new Map<string, string>();
        for await (const n of c.network.networkInterfaces.list(this.rg)) if (n.name) out.set(n.name, n.ipConfigurations?.[0]?.privateIPAddress ?? '');
        return out;
      }),
      this.call('publicIPAddresses.list', undefined, async (c) => {
        const out = new Map<string, string>();
        for await (const ip of c.network.publicIPAddresses.list(this.rg)) if (ip.name) out.set(ip.name, ip.ipAddress ?? '');
        return out;
      }),
    ]);
    const out: Instance[] = [];
    for (const raw of vms) {
      const name = raw.name ?? '';
      const cloudId = cloudIdOf(this.rg, name);
      if (!regions.includes((raw.location ?? '').toLowerCase())) continue;
      if (a.instanceIds && !a.instanceIds.includes(cloudId)) continue;
      const inst = this.view(raw, cloudId, { privateIp: nics.get(nicNameFor(name)) ?? '', publicIp: ips.get(ipNameFor(name)) ?? '' });
      if (a.tagFilters && !Object.entries(a.tagFilters).every(([k, vs]) => inst.tags[k] !== undefined && vs.includes(inst.tags[k]!))) continue;
      out.push(inst);
    }
    return out;
  }

  /**
   * Idempotent: a VM that is gone or unknown is done. Sends the VM's DELETE without waiting for it
   * (the NIC and public IP go with it: `deleteOption: Delete`); when the VM is already gone, deletes
   * a NIC and public IP left behind.
   */
  async terminateInstance(cloudId: string): Promise<void> {
    const id = parseCloudId(cloudId);
    if (!id || id.resourceGroup !== this.rg) return;
    this.#deleting.add(cloudId);
    try {
      await this.call('virtualMachines.delete', undefined, (c) => c.compute.virtualMachines.delete(this.rg, id.name, this.lro()).submitted());
    } catch (e) {
      if (!(e instanceof ResourceNotFoundError)) throw e;
      const gone = (x: unknown) => {
        if (!(x instanceof ResourceNotFoundError)) throw x;
      };
      await this.call('networkInterfaces.delete', undefined, (c) => c.network.networkInterfaces.beginDeleteAndWait(this.rg, nicNameFor(id.name), this.lro())).catch(gone);
      await this.call('publicIPAddresses.delete', undefined, (c) => c.network.publicIPAddresses.beginDeleteAndWait(this.rg, ipNameFor(id.name), this.lro())).catch(gone);
    }
  }

  async rebootInstance(cloudId: string): Promise<void> {
    const id = parseCloudId(cloudId);
    if (!id || id.resourceGroup !== this.rg) throw new InstanceNotFoundError(`azure: ${cloudId} is not a VM ID of this connection`);
    try {
      await this.call('virtualMachines.restart', undefined, (c) => c.compute.virtualMachines.restart(this.rg, id.name, this.lro()).pollUntilDone());
    } catch (e) {
      throw isCloudError(e) ? asInstanceNotFound(e) : e;
    }
  }

  /** Merges tags into the VM's (PATCH); identity tags cannot change. */
  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const tags = TagsSchema.parse(args.tags);
    for (const k of Object.keys(tags)) if ((Object.values(AZURE_TAG_KEYS) as string[]).includes(k)) throw new InvalidRequestError(`azure: tag ${k} is the VM's identity and cannot be changed`);
    const id = parseCloudId(args.instanceId);
    if (!id || id.resourceGroup !== this.rg) throw new InstanceNotFoundError(`azure: ${args.instanceId} is not a VM ID of this connection`);
    try {
      const raw = (await this.call('virtualMachines.get', undefined, (c) => c.compute.virtualMachines.get(this.rg, id.name))) as AzureVm;
      const merged = { ...(raw.tags ?? {}), ...Object.fromEntries(Object.entries(tags).filter(([k, v]) => TAG_KEY_RE.test(k) && v.length <= MAX_TAG_VALUE)) };
      await this.call('virtualMachines.update', undefined, (c) => c.compute.virtualMachines.update(this.rg, id.name, { tags: merged }, this.lro()).pollUntilDone());
    } catch (e) {
      throw isCloudError(e) ? asInstanceNotFound(e) : e;
    }
  }
}
