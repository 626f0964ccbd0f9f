/**
 * A stateful replica of Azure Resource Manager (Microsoft.Compute 2026-03-01, Microsoft.Network
 * 2025-05-01, Resource SKUs 2021-07-01) and of Microsoft Entra ID's client-credentials token
 * endpoint, over TLS on 127.0.0.1 (see README.md). ARM's paths, `api-version` required, the bearer
 * token checked (issued by the token endpoint to the right client secret), ARM's error body
 * `{"error": {"code", "message"}}`, long-running PUT/DELETE/POST answered 201/202 with
 * `Azure-AsyncOperation` (polled to `Succeeded`/`Failed` with the error there, as AllocationFailed
 * is), and VMs whose machines are real local cloud sshd instances. The SDKs talk to it unmodified.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackingCloud, readBody, ReplicaResponse, send, TokenBucket, type RequestRecord } from '../shared.js';
import { AZURE_REPLICA_SKUS, type ReplicaSku } from './catalog.js';
import { makeReplicaTls } from './tls.js';

/** ARM's error body (Azure REST API guidelines; `CloudError` of the specs' common types). */
export class ArmError extends ReplicaResponse {
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(status, { error: { code, message } }, headers);
  }
}

type PowerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated';

export interface ReplicaVm {
  name: string;
  location: string;
  resourceGroup: string;
  vmId: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  provisioningState: 'Creating' | 'Updating' | 'Succeeded' | 'Failed' | 'Deleting';
  power?: PowerState;
  backingId: string;
  spot: boolean;
  timeCreated: string;
  /** The PUT body as received, for tests. */
  request: Record<string, unknown>;
}

interface NetResource {
  kind: 'virtualNetworks' | 'networkInterfaces' | 'publicIPAddresses';
  name: string;
  resourceGroup: string;
  location: string;
  body: Record<string, unknown>;
}

interface AsyncOp {
  id: string;
  namespace: string;
  location: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  startTime: string;
  endTime?: string;
  error?: { code: string; message: string };
}

export interface AzureReplicaOptions {
  localCloud: { url: string; token: string };
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  resourceGroups: string[];
  backing?: { type: string; location: string };
  skus?: readonly ReplicaSku[];
  /** ARM's per-subscription read/write limits as a token bucket (20/s, burst 200); false turns it off. */
  throttling?: boolean;
  /** How long an evicted Spot VM stays deallocating before Azure deletes it (Azure: 30 s notice). */
  evictionGraceMs?: number;
}

export interface AzureReplicaAdmin {
  /** A one-shot error for the next request whose path contains `path` (and method matches). */
  failNext(f: { status: number; code: string; message?: string; method?: string; path?: string; retryAfterS?: number; count?: number }): void;
  /** No capacity for matching VM PUTs: the PUT's operation ends Failed with AllocationFailed (or ZonalAllocationFailed). */
  setCapacityOff(c: { vmSize?: string; location?: string; spot?: boolean; code?: 'AllocationFailed' | 'ZonalAllocationFailed' }): void;
  /** A family's regional vCPU quota: a PUT over it is 409 OperationNotAllowed (Azure's quota wording). */
  setQuota(q: { family: string; location: string; limit: number }): void;
  /** Azure evicts a Spot VM (as `simulateEviction` does): deallocating, then deleted with its NIC and IP. */
  evict(resourceGroup: string, name: string): Promise<void>;
  vm(resourceGroup: string, name: string): ReplicaVm | undefined;
  vms(): ReplicaVm[];
  everVms(): ReplicaVm[];
  network(kind: NetResource['kind']): NetResource[];
  /** Token requests, without the secret: client ID and whether the secret matched. */
  tokenRequests(): { clientId: string; ok: boolean; scope: string }[];
}

export interface AzureReplicaHandle {
  /** ARM endpoint (https://127.0.0.1:PORT). */
  url: string;
  /** Entra ID authority host (the same server). */
  authorityHost: string;
  /** The replica's TLS certificate (PEM file), for the credential's `caFile`. */
  caFile: string;
  admin: AzureReplicaAdmin;
  requests: RequestRecord[];
  close(): Promise<void>;
}

const API_VERSIONS = { compute: '2026-03-01', network: '2025-05-01', skus: '2021-07-01' } as const;

export async function startAzureReplica(opts: AzureReplicaOptions): Promise<AzureReplicaHandle> {
  const tls = makeReplicaTls();
  const skus = opts.skus ?? AZURE_REPLICA_SKUS;
  const graceMs = opts.evictionGraceMs ?? 1_000;
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'azure');
  const requests: RequestRecord[] = [];
  const tokens = new Map<string, number>();
  const tokenLog: { clientId: string; ok: boolean; scope: string }[] = [];
  const faults: { status: number; code: string; message?: string; method?: string; path?: string; retryAfterS?: number; count: number }[] = [];
  const capacityOff: { vmSize?: string; location?: string; spot?: boolean; code?: string }[] = [];
  const quotas: { family: string; location: string; limit: number }[] = [];
  const vms = new Map<string, ReplicaVm>();
  const ever: ReplicaVm[] = [];
  const net = new Map<string, NetResource>();
  const ops = new Map<string, AsyncOp>();
  const timers = new Set<NodeJS.Timeout>();
  const bucket = new TokenBucket(20, 200);
  const sub = opts.subscriptionId;
  let base = '';

  const key = (rg: string, name: string) => `${rg.toLowerCase()}/${name.toLowerCase()}`;
  const vmIdOf = (rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const netIdOf = (kind: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Network/${kind}/${name}`;
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  // ---- long-running operations ---------------------------------------------------------------------
  /** Starts `work` as an async operation; the headers Azure answers a long-running request with. */
  function lro(namespace: string, location: string, work: () => Promise<void>): Record<string, string> {
    const op: AsyncOp = { id: randomUUID(), namespace, location, status: 'InProgress', startTime: new Date().toISOString() };
    ops.set(op.id, op);
    void (async () => {
      await new Promise((r) => setTimeout(r, 30));
      try {
        await work();
        op.status = 'Succeeded';
      } catch (e) {
        const f = e as { code?: string; message: string };
        op.status = 'Failed';
        op.error = { code: f.code ?? 'InternalExecutionError', message: f.message };
      }
      op.endTime = new Date().toISOString();
    })();
    const version = namespace === 'Microsoft.Network' ? API_VERSIONS.network : API_VERSIONS.compute;
    return { 'azure-asyncoperation': `${base}/subscriptions/${sub}/providers/${namespace}/locations/${location}/operations/${op.id}?api-version=${version}` };
  }
  const opFailure = (code: string, message: string) => Object.assign(new Error(message), { code });

  // ---- VMs -------------------------------------------------------------------------------------------
  async function refresh(vm: ReplicaVm): Promise<void> {
    if (!vm.backingId || vm.provisioningState === 'Deleting' || vm.power === 'deallocating' || vm.power === 'deallocated') return;
    const b = await backing.get(vm.backingId);
    const s = b?.status.lifecycleStatus;
    if (b?.sshPort) vm.tags['gpuflow-replica-ssh-port'] = String(b.sshPort);
    if (b?.sshUser) vm.tags['gpuflow-replica-ssh-user'] = b.sshUser;
    if (s === 'running') vm.power = 'running';
    else if (s === 'pending') vm.power = 'starting';
    else if (!b || s === 'terminated' || s === 'failed') vm.power = 'stopped';
    const ip = nicPublicIp(vm);
    if (ip) ip.body.properties = { ...(ip.body.properties as object), ipAddress: vm.power === 'running' ? b?.publicIp || '127.0.0.1' : (ip.body.properties as { ipAddress?: string }).ipAddress };
  }

  function nicOf(vm: ReplicaVm): NetResource | undefined {
    const nics = ((vm.properties.networkProfile as { networkInterfaces?: { id?: string }[] })?.networkInterfaces ?? []).map((n) => n.id ?? '');
    return [...net.values()].find((r) => r.kind === 'networkInterfaces' && nics.some((id) => id.toLowerCase() === netIdOf('networkInterfaces', r.resourceGroup, r.name).toLowerCase()));
  }
  function nicPublicIp(vm: ReplicaVm): NetResource | undefined {
    const nic = nicOf(vm);
    const pipId = (((nic?.body.properties as { ipConfigurations?: { properties?: { publicIPAddress?: { id?: string } } }[] })?.ipConfigurations ?? [])[0]?.properties?.publicIPAddress?.id ?? '').toLowerCase();
    return [...net.values()].find((r) => r.kind === 'publicIPAddresses' && netIdOf('publicIPAddresses', r.resourceGroup, r.name).toLowerCase() === pipId);
  }

  function instanceView(vm: ReplicaVm): Record<string, unknown> {
    const now = new Date().toISOString();
    const prov = vm.provisioningState.toLowerCase();
    const statuses: Record<string, unknown>[] = [{ code: `ProvisioningState/${prov}`, level: vm.provisioningState === 'Failed' ? 'Error' : 'Info', displayStatus: `Provisioning ${prov}`, time: now }];
    if (vm.power) statuses.push({ code: `PowerState/${vm.power}`, level: 'Info', displayStatus: `VM ${vm.power}` });
    return { computerName: (vm.properties.osProfile as { computerName?: string })?.computerName, osName: 'ubuntu', osVersion: '22.04', statuses };
  }

  function vmJson(vm: ReplicaVm, expand: boolean): Record<string, unknown> {
    const { osProfile, ...rest } = vm.properties as { osProfile?: Record<string, unknown> };
    return {
      id: vmIdOf(vm.resourceGroup, vm.name),
      name: vm.name,
      type: 'Microsoft.Compute/virtualMachines',
      location: vm.location,
      tags: vm.tags,
      properties: {
        ...rest,
        // ARM never returns adminPassword or customData.
        osProfile: { ...osProfile, adminPassword: undefined, customData: undefined },
        vmId: vm.vmId,
        provisioningState: vm.provisioningState,
        timeCreated: vm.timeCreated,
        ...(expand ? { instanceView: instanceView(vm) } : {}),
      },
    };
  }

  function findVm(rg: string, name: string): ReplicaVm {
    const vm = vms.get(key(rg, name));
    if (!vm) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachines/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    return vm;
  }

  async function removeVm(vm: ReplicaVm): Promise<void> {
    vm.provisioningState = 'Deleting';
    if (vm.backingId) await backing.terminate(vm.backingId).catch(() => undefined);
    vms.delete(key(vm.resourceGroup, vm.name));
    // deleteOption: Delete on the NIC (and the NIC's public IP) removes them with the VM.
    const nicRef = ((vm.properties.networkProfile as { networkInterfaces?: { id?: string; properties?: { deleteOption?: string } }[] })?.networkInterfaces ?? [])[0];
    const nic = nicOf(vm);
    if (nic && nicRef?.properties?.deleteOption === 'Delete') {
      const pip = nicPublicIp(vm);
      net.delete(key(nic.resourceGroup, `nic:${nic.name}`));
      const pipRef = (((nic.body.properties as { ipConfigurations?: { properties?: { publicIPAddress?: { properties?: { deleteOption?: string } } } }[] })?.ipConfigurations ?? [])[0]?.properties?.publicIPAddress?.properties?.deleteOption);
      if (pip && pipRef === 'Delete') net.delete(key(pip.resourceGroup, `pip:${pip.name}`));
    } else if (nic) {
      delete (nic.body.properties as Record<string, unknown>).virtualMachine;
    }
  }

  type Ctx = { req: http.IncomingMessage; url: URL; body: unknown; m: RegExpExecArray };
  type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
  const routes: { method: string; re: RegExp; name: string; version: string; h: (c: Ctx) => Promise<Answer> }[] = [];
  const add = (method: string, path: string, name: string, version: string, h: (c: Ctx) => Promise<Answer>) => routes.push({ method, re: new RegExp(`^${path}$`, 'i'), name, version, h });
  const rgPath = `/subscriptions/([^/]+)/resourceGroups/([^/]+)`;

  add('GET', `/subscriptions/([^/]+)/providers/Microsoft.Compute/skus`, 'resourceSkus.list', API_VERSIONS.skus, async ({ url }) => {
    const loc = /location eq '([^']+)'/.exec(url.searchParams.get('$filter') ?? '')?.[1]?.toLowerCase();
    const value = skus
      .filter((s) => !loc || s.regions.includes(loc))
      .map((s) => ({
        resourceType: 'virtualMachines',
        name: s.name,
        tier: 'Standard',
        size: s.name.replace(/^Standard_/, ''),
        family: s.family,
        locations: s.regions.filter((r) => !loc || r === loc),
        locationInfo: s.regions.filter((r) => !loc || r === loc).map((r) => ({ location: r, zones: ['1', '2', '3'] })),
        capabilities: [
          { name: 'vCPUs', value: String(s.vCPUs) },
          { name: 'MemoryGB', value: String(s.memoryGB) },
          ...(s.gpus ? [{ name: 'GPUs', value: String(s.gpus) }] : []),
          { name: 'LowPriorityCapable', value: 'True' },
        ],
        restrictions: (s.restricted ?? []).filter((r) => !loc || r === loc).map((r) => ({ type: 'Location', values: [r], restrictionInfo: { locations: [r] }, reasonCode: 'NotAvailableForSubscription' })),
      }));
    return { status: 200, body: { value } };
  });

  add('PUT', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)`, 'virtualMachines.createOrUpdate', API_VERSIONS.compute, async ({ req, m, body }) => {
    const rg = m[2]!;
    const name = m[3]!;
    const b = (body ?? {}) as { location?: string; tags?: Record<string, string>; properties?: Record<string, unknown> };
    const existing = vms.get(key(rg, name));
    if (existing && req.headers['if-none-match'] === '*') throw new ArmError(412, 'PreconditionFailed', `The resource '${name}' already exists and If-None-Match: * was given.`);
    if (existing) throw new ArmError(409, 'OperationNotAllowed', 'Updates of an existing VM are not modelled by this replica.');
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$/.test(name)) throw new ArmError(400, 'InvalidParameter', `Virtual machine name '${name}' is invalid.`);
    const location = String(b.location ?? '').toLowerCase();
    const p = b.properties ?? {};
    const size = String((p.hardwareProfile as { vmSize?: string })?.vmSize ?? '');
    const sku = skus.find((s) => s.name === size);
    if (!sku || !sku.regions.includes(location) || sku.restricted?.includes(location)) {
      throw new ArmError(409, 'SkuNotAvailable', `The requested VM size '${size}' is currently not available in location '${location}'. Please try another size or deploy to a different location or different zone. See https://aka.ms/azureskunotavailable for details.`);
    }
    const os = (p.osProfile ?? {}) as { adminUsername?: string; linuxConfiguration?: { disablePasswordAuthentication?: boolean; ssh?: { publicKeys?: { path?: string; keyData?: string }[] } }; adminPassword?: string };
    const keyData = os.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData ?? '';
    if (!os.adminUsername) throw new ArmError(400, 'InvalidParameter', "Required parameter 'osProfile.adminUsername' is missing (null).");
    if (!keyData && !os.adminPassword) throw new ArmError(400, 'InvalidParameter', "Required parameter 'adminPassword' is missing (null).");
    if (keyData && !/^(ssh-rsa|ssh-ed25519|ecdsa-sha2-\S+) \S+/.test(keyData)) throw new ArmError(400, 'InvalidParameter', 'The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.');
    const nics = (p.networkProfile as { networkInterfaces?: { id?: string }[] })?.networkInterfaces ?? [];
    const nic = [...net.values()].find((r) => r.kind === 'networkInterfaces' && nics.some((n) => (n.id ?? '').toLowerCase() === netIdOf('networkInterfaces', r.resourceGroup, r.name).toLowerCase()));
    if (!nic) throw new ArmError(400, 'InvalidParameter', 'Network interface referenced by the VM does not exist (networkProfile.networkInterfaces[0].id).');
    if (nic.location !== location) throw new ArmError(400, 'NicInUseWithDifferentLocation', `The network interface is in location '${nic.location}', the VM in '${location}'.`);
    if (((nic.body.properties as Record<string, unknown>).virtualMachine as unknown) !== undefined) throw new ArmError(400, 'NicInUse', `Network interface ${nic.name} is used by another virtual machine.`);
    const spot = p.priority === 'Spot';
    if (spot && p.evictionPolicy !== 'Delete' && p.evictionPolicy !== 'Deallocate') throw new ArmError(400, 'InvalidParameter', "Spot VMs must set 'evictionPolicy' to 'Deallocate' or 'Delete'.");
    const maxPrice = (p.billingProfile as { maxPrice?: number })?.maxPrice;
    if (spot && maxPrice !== undefined && maxPrice !== -1 && !(maxPrice > 0)) throw new ArmError(400, 'InvalidParameter', "'billingProfile.maxPrice' must be -1 or greater than 0.");
    if (!spot && (p.evictionPolicy !== undefined || p.billingProfile !== undefined)) throw new ArmError(400, 'InvalidParameter', "'evictionPolicy' and 'billingProfile' are allowed for Spot VMs only.");
    for (const q of quotas.filter((x) => x.family === sku.family && x.location === location)) {
      const used = [...vms.values()].filter((v) => v.location === location && skus.find((s) => s.name === (v.properties.hardwareProfile as { vmSize?: string }).vmSize)?.family === sku.family).reduce((s2, v) => s2 + (skus.find((s) => s.name === (v.properties.hardwareProfile as { vmSize?: string }).vmSize)?.vCPUs ?? 0), 0);
      if (used + sku.vCPUs > q.limit) {
        throw new ArmError(
          409,
          'OperationNotAllowed',
          `Operation could not be completed as it results in exceeding approved ${sku.family} Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${location}, Current Limit: ${q.limit}, Current Usage: ${used}, Additional Required: ${sku.vCPUs}, (Minimum) New Limit Required: ${used + sku.vCPUs}. Submit a request for Quota increase at https://aka.ms/ProdportalCRP.`,
        );
      }
    }
    const vm: ReplicaVm = {
      name,
      location,
      resourceGroup: rg,
      vmId: randomUUID(),
      tags: { ...(b.tags ?? {}) },
      properties: { ...p, osProfile: { ...os, adminPassword: undefined } },
      provisioningState: 'Creating',
      backingId: '',
      spot,
      timeCreated: new Date().toISOString(),
      request: b as Record<string, unknown>,
    };
    vms.set(key(rg, name), vm);
    ever.push(vm);
    (nic.body.properties as Record<string, unknown>).virtualMachine = { id: vmIdOf(rg, name) };
    const headers = lro('Microsoft.Compute', location, async () => {
      const off = capacityOff.find((c) => (!c.vmSize || c.vmSize === size) && (!c.location || c.location === location) && (c.spot === undefined || c.spot === spot));
      if (off) {
        vm.provisioningState = 'Failed';
        if (off.code === 'ZonalAllocationFailed') throw opFailure('ZonalAllocationFailed', `Allocation failed. We do not have sufficient capacity for the requested VM size in this zone. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance`);
        throw opFailure('AllocationFailed', `Allocation failed. We do not have sufficient capacity for the requested VM size in this region. Read more about improving likelihood of allocation success at http://aka.ms/allocation-guidance`);
      }
      const bi = await backing.create(`${rg}-${name}`, name, keyData || `ssh-ed25519 ${randomBytes(32).toString('base64')}`);
      vm.backingId = bi.cloudId;
      vm.power = 'starting';
      vm.provisioningState = 'Succeeded';
    });
    return { status: 201, body: vmJson(vm, false), headers };
  });

  add('GET', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)`, 'virtualMachines.get', API_VERSIONS.compute, async ({ m, url }) => {
    const vm = findVm(m[2]!, m[3]!);
    await refresh(vm);
    return { status: 200, body: vmJson(vm, url.searchParams.get('$expand') === 'instanceView') };
  });
  add('PATCH', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)`, 'virtualMachines.update', API_VERSIONS.compute, async ({ m, body }) => {
    const vm = findVm(m[2]!, m[3]!);
    const b = (body ?? {}) as { tags?: Record<string, string> };
    if (b.tags) vm.tags = { ...b.tags, ...Object.fromEntries(Object.entries(vm.tags).filter(([k]) => k.startsWith('gpuflow-replica-'))) };
    return { status: 200, body: vmJson(vm, false) };
  });
  add('GET', `/subscriptions/([^/]+)/providers/Microsoft.Compute/virtualMachines`, 'virtualMachines.listAll', API_VERSIONS.compute, async ({ url }) => {
    await Promise.all([...vms.values()].map(refresh));
    return { status: 200, body: { value: [...vms.values()].map((v) => vmJson(v, url.searchParams.get('statusOnly') === 'true')) } };
  });
  add('DELETE', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)`, 'virtualMachines.delete', API_VERSIONS.compute, async ({ m }) => {
    const vm = vms.get(key(m[2]!, m[3]!));
    // ARM answers 204 to a DELETE of a resource that does not exist.
    if (!vm) return { status: 204 };
    if (vm.provisioningState === 'Deleting') return { status: 202, headers: lro('Microsoft.Compute', vm.location, async () => undefined) };
    vm.provisioningState = 'Deleting';
    return { status: 202, headers: lro('Microsoft.Compute', vm.location, () => removeVm(vm)) };
  });
  add('POST', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)/restart`, 'virtualMachines.restart', API_VERSIONS.compute, async ({ m }) => {
    const vm = findVm(m[2]!, m[3]!);
    if (vm.power !== 'running') throw new ArmError(409, 'OperationNotAllowed', `Operation 'restart' is not allowed on VM '${vm.name}' since the VM is ${vm.power ?? 'not running'}.`);
    return { status: 202, headers: lro('Microsoft.Compute', vm.location, () => backing.reboot(vm.backingId)) };
  });
  add('POST', `${rgPath}/providers/Microsoft.Compute/virtualMachines/([^/]+)/simulateEviction`, 'virtualMachines.simulateEviction', API_VERSIONS.compute, async ({ m }) => {
    const vm = findVm(m[2]!, m[3]!);
    if (!vm.spot) throw new ArmError(409, 'OperationNotAllowed', `Simulate eviction is allowed only for Spot VMs; '${vm.name}' is not one.`);
    void admin.evict(vm.resourceGroup, vm.name);
    return { status: 204 };
  });
  add('GET', `/subscriptions/([^/]+)/providers/(Microsoft.Compute|Microsoft.Network)/locations/([^/]+)/operations/([^/]+)`, 'operations.get', '', async ({ m }) => {
    const op = ops.get(m[4]!);
    if (!op) throw new ArmError(404, 'NotFound', `Operation ${m[4]} was not found.`);
    return { status: 200, body: { name: op.id, status: op.status, startTime: op.startTime, ...(op.endTime ? { endTime: op.endTime } : {}), ...(op.error ? { error: op.error } : {}) } };
  });

  // ---- Microsoft.Network: virtual networks, public IPs, NICs ------------------------------------------
  const netKinds = { virtualNetworks: 'vnet', publicIPAddresses: 'pip', networkInterfaces: 'nic' } as const;
  const netJson = (r: NetResource) => ({ id: netIdOf(r.kind, r.resourceGroup, r.name), name: r.name, type: `Microsoft.Network/${r.kind}`, location: r.location, ...r.body });
  for (const kind of Object.keys(netKinds) as NetResource['kind'][]) {
    const k = (rg: string, name: string) => key(rg, `${netKinds[kind]}:${name}`);
    add('PUT', `${rgPath}/providers/Microsoft.Network/${kind}/([^/]+)`, `${kind}.createOrUpdate`, API_VERSIONS.network, async ({ m, body }) => {
      const rg = m[2]!;
      const name = m[3]!;
      const b = (body ?? {}) as { location?: string; tags?: Record<string, string>; sku?: unknown; properties?: Record<string, unknown> };
      const location = String(b.location ?? '').toLowerCase();
      if (!location) throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
      const props: Record<string, unknown> = { ...(b.properties ?? {}), provisioningState: 'Succeeded', resourceGuid: randomUUID() };
      if (kind === 'virtualNetworks') {
        props.subnets = ((b.properties?.subnets as { name?: string; properties?: Record<string, unknown> }[]) ?? []).map((s) => ({ id: `${netIdOf(kind, rg, name)}/subnets/${s.name}`, name: s.name, properties: { ...s.properties, provisioningState: 'Succeeded' } }));
      }
      if (kind === 'networkInterfaces') {
        const prior = net.get(k(rg, name));
        const ipcs = (b.properties?.ipConfigurations as { name?: string; properties?: Record<string, unknown> }[]) ?? [];
        const subnetId = String(((ipcs[0]?.properties?.subnet as { id?: string }) ?? {}).id ?? '');
        const vnet = [...net.values()].find((r) => r.kind === 'virtualNetworks' && subnetId.toLowerCase().startsWith(netIdOf('virtualNetworks', r.resourceGroup, r.name).toLowerCase() + '/subnets/'));
        if (!vnet) throw new ArmError(400, 'InvalidResourceReference', `Resource ${subnetId} referenced by resource ${netIdOf(kind, rg, name)} was not found.`);
        if (vnet.location !== location) throw new ArmError(400, 'InvalidResourceReference', `Subnet ${subnetId} is in ${vnet.location}, the NIC in ${location}.`);
        props.ipConfigurations = ipcs.map((c, i) => ({ id: `${netIdOf(kind, rg, name)}/ipConfigurations/${c.name}`, name: c.name, properties: { ...c.properties, privateIPAddress: `10.77.0.${4 + ((net.size + i) % 250)}`, provisioningState: 'Succeeded', primary: i === 0 } }));
        if (prior && (prior.body.properties as Record<string, unknown>).virtualMachine) props.virtualMachine = (prior.body.properties as Record<string, unknown>).virtualMachine;
      }
      const r: NetResource = { kind, name, resourceGroup: rg, location, body: { tags: b.tags ?? {}, ...(b.sku ? { sku: b.sku } : {}), properties: props } };
      const created = !net.has(k(rg, name));
      net.set(k(rg, name), r);
      return { status: created ? 201 : 200, body: netJson(r), headers: lro('Microsoft.Network', location, async () => undefined) };
    });
    add('GET', `${rgPath}/providers/Microsoft.Network/${kind}/([^/]+)`, `${kind}.get`, API_VERSIONS.network, async ({ m }) => {
      const r = net.get(k(m[2]!, m[3]!));
      if (!r) throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.Network/${kind}/${m[3]}' under resource group '${m[2]}' was not found.`);
      return { status: 200, body: netJson(r) };
    });
    add('GET', `${rgPath}/providers/Microsoft.Network/${kind}`, `${kind}.list`, API_VERSIONS.network, async ({ m }) => ({
      status: 200,
      body: { value: [...net.values()].filter((r) => r.kind === kind && r.resourceGroup.toLowerCase() === m[2]!.toLowerCase()).map(netJson) },
    }));
    add('DELETE', `${rgPath}/providers/Microsoft.Network/${kind}/([^/]+)`, `${kind}.delete`, API_VERSIONS.network, async ({ m }) => {
      const r = net.get(k(m[2]!, m[3]!));
      if (!r) return { status: 204 };
      if (kind === 'networkInterfaces' && (r.body.properties as Record<string, unknown>).virtualMachine) {
        throw new ArmError(400, 'NicInUse', `Network Interface ${netIdOf(kind, r.resourceGroup, r.name)} is used by existing resource ${((r.body.properties as { virtualMachine: { id: string } }).virtualMachine).id}. In order to delete the network interface, it must be dissociated from the resource.`);
      }
      if (kind === 'publicIPAddresses' && [...net.values()].some((n) => n.kind === 'networkInterfaces' && JSON.stringify(n.body).toLowerCase().includes(netIdOf(kind, r.resourceGroup, r.name).toLowerCase()))) {
        throw new ArmError(400, 'PublicIPAddressInUse', `Public IP address ${netIdOf(kind, r.resourceGroup, r.name)} can not be deleted since it is still allocated to resource.`);
      }
      return { status: 202, headers: lro('Microsoft.Network', r.location, async () => void net.delete(k(m[2]!, m[3]!))) };
    });
  }

  // ---- Entra ID: OpenID metadata and the client-credentials token endpoint ------------------------------
  function oidc(tenant: string): Record<string, unknown> {
    const t = `${base}/${tenant}`;
    return {
      token_endpoint: `${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${opts.tenantId}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${t}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
      tenant_region_scope: 'NA',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  }

  async function handleIdentity(req: http.IncomingMessage, res: http.ServerResponse, url: URL, rec: RequestRecord): Promise<boolean> {
    const meta = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (meta && req.method === 'GET') {
      rec.status = 200;
      send(res, 200, oidc(meta[1]!));
      return true;
    }
    const tok = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (!tok || req.method !== 'POST') return false;
    const { text } = await readBody(req);
    const form = new URLSearchParams(text);
    const clientId = form.get('client_id') ?? '';
    const scope = form.get('scope') ?? '';
    const oauthError = (status: number, error: string, description: string) => {
      rec.status = status;
      send(res, status, { error, error_description: `${description}\r\nTrace ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() });
    };
    if (tok[1] !== opts.tenantId) {
      oauthError(400, 'invalid_request', `AADSTS90002: Tenant '${tok[1]}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
      return true;
    }
    if (form.get('grant_type') !== 'client_credentials') {
      oauthError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
      return true;
    }
    if (clientId !== opts.clientId) {
      oauthError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`);
      tokenLog.push({ clientId, ok: false, scope });
      return true;
    }
    const ok = form.get('client_secret') === opts.clientSecret;
    tokenLog.push({ clientId, ok, scope });
    if (!ok) {
      oauthError(401, 'invalid_client', `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
      return true;
    }
    if (scope !== 'https://management.azure.com/.default') {
      oauthError(400, 'invalid_scope', `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`);
      return true;
    }
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, Date.now() + 3600_000);
    rec.status = 200;
    send(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    return true;
  }

  // ---- the server --------------------------------------------------------------------------------------
  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://replica');
    if (await handleIdentity(req, res, url, rec)) return;
    const hit = routes.map((x) => ({ x, m: x.method === req.method ? x.re.exec(url.pathname) : null })).find((y) => y.m);
    const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    rec.auth = bearer ? 'bearer' : 'none';
    if (!bearer) throw new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
    const exp = tokens.get(bearer);
    if (!exp || exp < Date.now()) throw new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    if (!hit) throw new ArmError(404, 'InvalidResourceType', `The resource type could not be found in the namespace for api version '${url.searchParams.get('api-version')}'.`);
    if (hit.x.version && url.searchParams.get('api-version') !== hit.x.version && hit.x.name !== 'operations.get') {
      if (!url.searchParams.get('api-version')) throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
    }
    if (hit.m![1] !== sub) throw new ArmError(403, 'AuthorizationFailed', `The client '${opts.clientId}' with object id '${opts.clientId}' does not have authorization to perform action over scope '/subscriptions/${hit.m![1]}' or the scope is invalid.`);
    if (/resourceGroups/i.test(hit.x.re.source) && !opts.resourceGroups.some((g) => g.toLowerCase() === hit.m![2]!.toLowerCase())) throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${hit.m![2]}' could not be found.`);
    const fi = faults.findIndex((f) => f.count > 0 && (!f.method || f.method === req.method) && (!f.path || url.pathname.includes(f.path)));
    if (fi >= 0) {
      const f = faults[fi]!;
      if (--f.count <= 0) faults.splice(fi, 1);
      throw new ArmError(f.status, f.code, f.message ?? `${f.code} (injected)`, f.retryAfterS !== undefined ? { 'retry-after': String(f.retryAfterS) } : {});
    }
    if (opts.throttling !== false && !bucket.take().ok) {
      throw new ArmError(429, 'TooManyRequests', 'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.', { 'retry-after': '1' });
    }
    const { json, invalidJson } = req.method === 'PUT' || req.method === 'PATCH' || req.method === 'POST' ? await readBody(req) : { json: undefined, invalidJson: false };
    if (invalidJson) throw new ArmError(400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
    const out = await hit.x.h({ req, url, body: json, m: hit.m! });
    rec.status = out.status;
    send(res, out.status, out.body, { 'x-ms-request-id': randomUUID(), ...(out.headers ?? {}) });
  }

  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const rec: RequestRecord = { method: (req.method ?? 'GET').toUpperCase(), path: req.url ?? '/', status: 0, auth: 'none', at: Date.now() };
    requests.push(rec);
    handle(req, res, rec).catch((err: unknown) => {
      const r = err instanceof ReplicaResponse ? err : new ArmError(500, 'InternalServerError', 'An internal server error occurred. Please retry the request.');
      rec.status = r.status;
      send(res, r.status, r.body, r.headers);
    });
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const admin: AzureReplicaAdmin = {
    failNext: (f) => faults.push({ count: 1, ...f }),
    setCapacityOff: (c) => capacityOff.push(c),
    setQuota: (q) => quotas.push(q),
    async evict(rg, name) {
      const vm = findVm(rg, name);
      vm.power = 'deallocating';
      await new Promise<void>((resolve) =>
        later(graceMs, () => {
          void (vm.properties.evictionPolicy === 'Delete' ? removeVm(vm) : backing.terminate(vm.backingId).then(() => void (vm.power = 'deallocated'))).finally(resolve);
        }),
      );
    },
    vm: (rg, name) => vms.get(key(rg, name)) ?? ever.find((v) => v.resourceGroup.toLowerCase() === rg.toLowerCase() && v.name.toLowerCase() === name.toLowerCase()),
    vms: () => [...vms.values()],
    everVms: () => [...ever],
    network: (kind) => [...net.values()].filter((r) => r.kind === kind),
    tokenRequests: () => [...tokenLog],
  };

  return {
    url: base,
    authorityHost: base,
    caFile: tls.certFile,
    admin,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all([...vms.values()].filter((v) => v.backingId).map((v) => backing.terminate(v.backingId).catch(() => undefined)));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
      tls.dispose();
    },
  };
}
