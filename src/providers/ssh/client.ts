/**
 * The SSH fleet adapter: the provider contract over a team's own machines. Offers come from the
 * GPUs each host reports (nvidia-smi / rocm-smi, at every catalog read); an instance is a lease of
 * some of a host's GPUs with its own sshd (see ./hostScript.ts), created idempotently by refId
 * (the lease ID is a hash of connection and refId) and released by terminate, which kills the
 * lease's processes and deletes its directory. A host that does not answer for
 * `hostLostAfterMs` makes its leases failed with a host failure.
 */
import { createHash } from 'node:crypto';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { CloudError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, ServiceUnavailableError } from '../sdk/errors.js';
import { makeGenericInstanceTypeId } from '../sdk/ids.js';
import { normalizeGpuName } from '../sdk/gpu.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
} from '../sdk/types.js';
import { shellQuote } from '../../ssh/shellQuote.js';
import type { Logger } from 'pino';
import type { HostGpu, HostLease, HostState, LeaseRecord } from './api.js';
import { fleetInstanceTypes, fleetLocations, freeIndices, gpuGroups, type CatalogHost, type FleetPricing } from './catalog.js';
import { parseHostState } from './hostState.js';
import { fleetCloudId, fleetInstance, parseFleetCloudId } from './instances.js';
import { runHostScript, type HostCommand } from './transport.js';


export interface FleetHostConfig {
  name: string;
  host: string;
  port: number;
  user: string;
  region: string;
  declaredGpus?: { name: string; count: number } | undefined;
  listenAddress: string;
  leasePorts: { from: number; to: number };
}

/** What the client needs of its credential (SshFleetCredential implements it). */
export interface SshFleetClientCredential extends CloudCredential {
  readonly hostConfigs: FleetHostConfig[];
  readonly privateKeys: ReadonlyMap<string, string>;
  readonly options: FleetPricing & { country: string; hostLostAfterMs: number; instancePollMs: number; timeoutMs?: number | undefined };
  logger(): Logger;
}

/** A lease ID per (connection, refId): a repeated create finds the lease it made. */
export function leaseIdOf(cloudCredRefId: string, refId: string): string {
  return createHash('sha256').update(`${cloudCredRefId}\u0000${refId}`).digest('hex').slice(0, 20);
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function declaredGpus(d: { name: string; count: number }): HostGpu[] {
  const n = normalizeGpuName(d.name);
  const vendor = n.manufacturer === 'AMD' ? 'AMD' : 'NVIDIA';
  return Array.from({ length: d.count }, (_, index) => ({ index, productName: d.name, memoryMiB: (n.memoryGiB ?? 0) * 1024, vendor }));
}

export class SshFleetClient extends CredentialBoundClient<SshFleetClientCredential> implements CloudClient {
  /** Last answer of each host (a host that stops answering keeps its offers, unavailable). */
  readonly #lastState = new Map<string, HostState>();
  /** When each host first failed to answer, since it last answered. */
  readonly #failingSince = new Map<string, number>();

  constructor(credential: SshFleetClientCredential, location: string) {
    super(credential, location);
  }

  // --- host calls -------------------------------------------------------------------------------

  private hostNamed(name: string): FleetHostConfig | undefined {
    return this.credential.hostConfigs.find((h) => h.name === name);
  }

  private run(h: FleetHostConfig, command: HostCommand, args: string[]): Promise<string> {
    const privateKey = this.credential.privateKeys.get(h.name)!;
    return runHostScript({ name: h.name, host: h.host, port: h.port, username: h.user, privateKey }, command, args, {
      logger: this.credential.logger(),
      ...(this.credential.options.timeoutMs ? { timeoutMs: this.credential.options.timeoutMs } : {}),
    });
  }

  private async hostState(h: FleetHostConfig): Promise<HostState> {
    try {
      const state = parseHostState(await this.run(h, 'state', []));
      if (state.gpus.length === 0 && h.declaredGpus) state.gpus = declaredGpus(h.declaredGpus);
      this.#lastState.set(h.name, state);
      this.#failingSince.delete(h.name);
      return state;
    } catch (e) {
      if (e instanceof ServiceUnavailableError && !this.#failingSince.has(h.name)) this.#failingSince.set(h.name, Date.now());
      throw e;
    }
  }

  /** Every host's state now, or its last one (not answering). */
  private async catalogHosts(hosts = this.credential.hostConfigs): Promise<CatalogHost[]> {
    const states = await Promise.allSettled(hosts.map((h) => this.hostState(h)));
    return hosts.map((h, i) => {
      const s = states[i]!;
      if (s.status === 'rejected') this.credential.logger().warn({ host: h.name, err: (s.reason as Error).message }, 'ssh fleet host did not answer');
      return { name: h.name, region: h.region, state: s.status === 'fulfilled' ? s.value : this.#lastState.get(h.name), answering: s.status === 'fulfilled' };
    });
  }

  private isLost(hostName: string): boolean {
    const since = this.#failingSince.get(hostName);
    return since !== undefined && Date.now() - since >= this.credential.options.hostLostAfterMs;
  }

  private leaseFromOutput(h: FleetHostConfig, stdout: string): HostLease {
    const lease = parseHostState(stdout).leases[0];
    if (!lease) throw new ServiceUnavailableError(`ssh fleet host ${h.name}: the lease was not reported back`);
    return lease;
  }

  private instanceOf(h: FleetHostConfig, lease: HostLease): Instance {
    return fleetInstance(lease, h, { lifecycleStatus: lease.alive ? 'running' : 'pending' });
  }

  private lostInstance(h: FleetHostConfig, lease: HostLease): Instance {
    const secs = Math.round(this.credential.options.hostLostAfterMs / 1000);
    return fleetInstance(lease, h, { lifecycleStatus: 'failed', interruption: 'host-failure', messages: [`host ${h.name} has not answered over SSH for ${secs} s or more`] });
  }

  // --- catalog ----------------------------------------------------------------------------------

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locs = fleetLocations(await this.catalogHosts(), this.credential.options.country);
    return args?.includeUnavailable ? locs : locs.filter((l) => l.available);
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    return fleetInstanceTypes(await this.catalogHosts(), this.credential.options).filter((t) => isSelectedByArgs(t, parsed.data));
  }

  getInstanceTypePollTimeMs(): number {
    return 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  async getInstance(cloudId: string): Promise<Instance> {
    const id = parseFleetCloudId(cloudId);
    const h = id && this.hostNamed(id.hostName);
    if (!id || !h) throw new InstanceNotFoundError(`no SSH fleet lease ${cloudId}`);
    let state: HostState;
    try {
      state = await this.hostState(h);
    } catch (e) {
      const cached = this.#lastState.get(h.name)?.leases.find((l) => l.leaseId === id.leaseId);
      if (e instanceof ServiceUnavailableError && cached && this.isLost(h.name)) return this.lostInstance(h, cached);
      throw e;
    }
    const lease = state.leases.find((l) => l.leaseId === id.leaseId);
    if (!lease) throw new InstanceNotFoundError(`no SSH fleet lease ${cloudId}: released, or never made`);
    if (lease.alive) return this.instanceOf(h, lease);
    // Its sshd died (a host reboot): bring it back, or report the lease failed.
    try {
      return this.instanceOf(h, this.leaseFromOutput(h, await this.run(h, 'revive', [id.leaseId])));
    } catch (e) {
      if (e instanceof CloudError && e.retryable) throw e;
      return fleetInstance(lease, h, { lifecycleStatus: 'failed', interruption: 'host-failure', messages: [(e as Error).message] });
    }
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const out: Instance[] = [];
    for (const c of await this.catalogHosts()) {
      const h = this.hostNamed(c.name)!;
      for (const lease of c.state?.leases ?? []) {
        if (lease.record.cloudCredRefId !== this.getReferenceId()) continue;
        if (c.answering) out.push(this.instanceOf(h, lease));
        else if (this.isLost(h.name)) out.push(this.lostInstance(h, lease));
      }
    }
    return out.filter((i) => isInstanceSelectedByArgs(i, parsed.data));
  }

  getInstancePollTimeMs(): number {
    return this.credential.options.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    const slice = /^(\d+)x_(.+)$/.exec(a.instanceType);
    if (!slice) throw new InvalidRequestError(`createInstance: instanceType "${a.instanceType}" is not an SSH fleet type such as 2x_a100_80gb_sxm4`);
    const [count, groupKey] = [Number(slice[1]), slice[2]!];
    const hosts = this.credential.hostConfigs.filter((h) => h.region === a.location);
    if (hosts.length === 0) throw new InvalidRequestError(`createInstance: location "${a.location}" has no hosts in this fleet`);
    const badEnv = Object.keys(a.additionalEnvVars).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
    if (badEnv !== undefined) throw new InvalidRequestError(`createInstance: additionalEnvVars key "${badEnv}" is not a shell variable name`);

    const leaseId = leaseIdOf(this.getReferenceId(), a.refId);
    const known = await this.catalogHosts(hosts);
    // Idempotent: the lease of this refId, wherever it is.
    for (const c of known) {
      if (c.answering && c.state?.leases.some((l) => l.leaseId === leaseId)) {
        const h = this.hostNamed(c.name)!;
        return this.instanceOf(h, this.leaseFromOutput(h, await this.run(h, 'revive', [leaseId])));
      }
    }
    // Best fit: the host with the fewest free GPUs that still fit keeps bigger hosts whole.
    const candidates = known
      .flatMap((c) => {
        const group = c.answering && c.state && c.state.sshd ? gpuGroups(c.state.gpus).find((g) => g.key === groupKey) : undefined;
        return group && c.state ? [{ c, group, free: freeIndices(c.state, group).length }] : [];
      })
      .filter((x) => x.free >= count)
      .sort((x, y) => x.free - y.free || x.c.name.localeCompare(y.c.name));
    const record: LeaseRecord = {
      v: 1,
      refId: a.refId,
      cloudCredRefId: this.getReferenceId(),
      name: a.name,
      instanceType: a.instanceType,
      instanceTypeId: makeGenericInstanceTypeId({ location: a.location, type: a.instanceType }),
      location: a.location,
      createdAt: new Date().toISOString(),
      tags: a.tags,
    };
    const env = ['# environment of the lease (createInstance additionalEnvVars)', ...Object.entries(a.additionalEnvVars).map(([k, v]) => `export ${k}=${shellQuote(v)}`)].join('\n');
    const refusals: string[] = [];
    for (const { c, group } of candidates) {
      const h = this.hostNamed(c.name)!;
      try {
        const out = await this.run(h, 'claim', [
          leaseId,
          String(count),
          group.indices.join(','),
          String(h.leasePorts.from),
          String(h.leasePorts.to),
          h.listenAddress,
          b64(JSON.stringify(record)),
          b64(a.publicKey.trim()),
          b64(`${env}\n`),
        ]);
        const lease = this.leaseFromOutput(h, out);
        this.credential.logger().info({ host: h.name, cloudId: fleetCloudId(leaseId, h.name), gpus: lease.gpus, port: lease.port }, 'ssh fleet lease claimed');
        return this.instanceOf(h, lease);
      } catch (e) {
        // Taken meanwhile by another workload: the next host. Anything else (a timeout above all)
        // may have claimed after all: retrying the same refId finds that lease, another host would not.
        if (e instanceof InsufficientCapacityError) {
          refusals.push(e.message);
          continue;
        }
        throw e;
      }
    }
    const answering = known.filter((c) => c.answering).length;
    throw new InsufficientCapacityError(
      `no host of ${a.location} has ${count} free ${groupKey} GPU(s) (${answering} of ${known.length} host(s) answering)${refusals.length ? `: ${refusals.join('; ')}` : ''}`,
      { scope: 'zone' },
    );
  }

  /** Idempotent: a released lease or an unknown ID is fine. */
  async terminateInstance(cloudId: string): Promise<void> {
    const id = parseFleetCloudId(cloudId);
    const h = id && this.hostNamed(id.hostName);
    if (!id || !h) return;
    await this.run(h, 'release', [id.leaseId]);
    this.credential.logger().info({ host: h.name, cloudId }, 'ssh fleet lease released');
  }

  getMaxCreateRequestsPerMinute(): number {
    return 60;
  }
}
