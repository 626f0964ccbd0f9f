/**
 * The local cloud's control plane: instances, their lifecycle, capacity and persistence. The HTTP
 * layer (server.ts) only translates requests to these calls.
 *
 * Every lifecycle change of one instance runs under that instance's lock, so create, boot, stop,
 * start, reboot, terminate and preempt never interleave on the same instance.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { bytes } from '../../sdk/bytes.js';
import { makeGenericInstanceTypeIdFromInstance } from '../../sdk/ids.js';
import type { Instance, InstanceType, LifecycleStatus, Location, Tags } from '../../sdk/types.js';
import { CreateInstanceBodySchema, type LocalCloudStats, type LocalErrorCode } from '../api.js';
import type { z } from 'zod';
import {
  findRegion,
  findType,
  instanceTypesOf,
  locationsOf,
  resolveGpu,
  type LocalCatalog,
  type LocalInstanceTypeSpec,
} from './catalog.js';
import { FaultState } from './faults.js';
import { metadataEndpointFile, newMetadataToken, sameToken, SELF_TERMINATED_MESSAGE } from './metadata.js';
import { isAlive, killInstanceProcesses, readCmdline } from './procs.js';
import {
  instancePaths,
  killStaleSshd,
  prepareInstanceDir,
  removeInstanceDir,
  sshUser,
  startSshd,
  stopSshd,
  writeGpuUtilization,
  type RunningSshd,
  type SshdTools,
} from './sshd.js';
import { loadState, StateWriter, type InstanceRecord, type State } from './state.js';

export class CloudApiError extends Error {
  constructor(
    readonly code: LocalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CloudApiError';
  }
}

/** Statuses in which an instance holds capacity. */
const HOLDS_CAPACITY: ReadonlySet<LifecycleStatus> = new Set(['pending', 'running', 'stopping', 'stopped', 'suspending', 'suspended', 'terminating']);
const LOCK_FILE = 'daemon.lock';
/** Data dirs opened by an engine of this process (in-process daemons, e.g. in tests). */
const OPEN_DATA_DIRS = new Set<string>();

/** Terminated instances stay listed this long (like AWS); GET by ID keeps answering for them. */
const TERMINATED_LISTED_MS = 60 * 60_000;

export interface EngineOptions {
  dataDir: string;
  catalog: LocalCatalog;
  logger: Logger;
  tools: SshdTools;
  /** SIGTERM → SIGKILL grace when killing an instance's processes. */
  killGraceMs: number;
}

export interface ListFilter {
  locations?: string[];
  ids?: string[];
  tags?: Record<string, string[]>;
}

type CreateBody = z.output<typeof CreateInstanceBodySchema>;

export class LocalCloudEngine {
  readonly faults = new FaultState();
  private state!: State;
  private readonly writer: StateWriter;
  private readonly sshds = new Map<string, RunningSshd>();
  private readonly bootTimers = new Map<string, NodeJS.Timeout>();
  private readonly bootTokens = new Map<string, number>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly inflightCreates = new Map<string, Promise<InstanceRecord>>();
  private readonly restarts = new Map<string, number[]>();
  private closed = false;
  private readonly log: Logger;

  private constructor(private readonly opts: EngineOptions) {
    this.writer = new StateWriter(opts.dataDir);
    this.log = opts.logger;
  }

  get catalog(): LocalCatalog {
    return this.currentCatalog ?? this.opts.catalog;
  }

  /** Catalog replaced at run time (admin API, in memory); types it dropped stay known to their instances. */
  private currentCatalog?: LocalCatalog;
  private readonly retiredTypes = new Map<string, LocalInstanceTypeSpec>();

  /** Replaces the catalog (prices, types, regions, poll times) as a provider's catalog changes over time. */
  replaceCatalog(next: LocalCatalog): void {
    for (const t of this.catalog.instanceTypes) this.retiredTypes.set(t.type, t);
    this.currentCatalog = next;
    this.log.info({ instanceTypes: next.instanceTypes.length, regions: next.regions.length }, 'catalog replaced');
  }

  /** The spec of an existing instance's type: the current catalog's, or the one it was created from. */
  private typeSpec(type: string): LocalInstanceTypeSpec | undefined {
    return findType(this.catalog, type) ?? this.retiredTypes.get(type);
  }

  /** Loads the state and brings back what was running (new sshd, maybe on a new port). */
  static async open(opts: EngineOptions): Promise<LocalCloudEngine> {
    const e = new LocalCloudEngine(opts);
    await e.writer.init();
    await e.lock();
    try {
      e.state = await loadState(opts.dataDir);
      await e.recover();
    } catch (err) {
      e.unlock();
      throw err;
    }
    return e;
  }

  /** One daemon per data dir: a second one would fight over the state and the sshds. */
  private async lock(): Promise<void> {
    const dir = path.resolve(this.opts.dataDir);
    if (OPEN_DATA_DIRS.has(dir)) throw new Error(`local cloud data dir ${dir} is already in use by this process`);
    const file = path.join(dir, LOCK_FILE);
    try {
      const pid = Number((await readFile(file, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 1 && pid !== process.pid && isAlive(pid) && (await readCmdline(pid))?.includes('node')) {
        throw new Error(`local cloud data dir ${dir} is in use by process ${pid} (remove ${file} if that is not a local cloud daemon)`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await writeFile(file, `${process.pid}\n`);
    OPEN_DATA_DIRS.add(dir);
  }

  private unlock(): void {
    const dir = path.resolve(this.opts.dataDir);
    OPEN_DATA_DIRS.delete(dir);
    try {
      rmSync(path.join(dir, LOCK_FILE), { force: true });
    } catch {
      // best effort
    }
  }

  private async recover(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.state.instances.map((rec) =>
        this.withLock(rec.id, async () => {
          const p = instancePaths(this.opts.dataDir, rec.id);
          switch (rec.status) {
            case 'running':
            case 'pending': {
              await killStaleSshd(p, this.log);
              try {
                await this.prepare(rec);
              } catch (err) {
                await this.markFailed(rec, `cannot restore the instance: ${(err as Error).message}`);
                return;
              }
              if (rec.status === 'running') {
                rec.status = 'pending';
                await this.boot(rec, this.nextBootToken(rec.id));
              } else {
                this.scheduleBoot(rec, Math.max(0, (rec.bootAt ?? now) - now));
              }
              return;
            }
            case 'stopping':
              await this.killMachine(rec);
              this.setStatus(rec, 'stopped', 'stopped');
              return;
            case 'terminating':
              await this.killMachine(rec);
              await removeInstanceDir(this.opts.dataDir, rec.id);
              rec.terminatedAt ??= new Date().toISOString();
              this.setStatus(rec, 'terminated', rec.messages[0] ?? 'terminated');
              return;
            default:
              return;
          }
        }),
      ),
    );
    await this.persist();
    const running = this.state.instances.filter((r) => r.status === 'running').length;
    this.log.info({ instances: this.state.instances.length, running }, 'local cloud state loaded');
  }

  // ---------------------------------------------------------------------------------------------
  // Catalog
  // ---------------------------------------------------------------------------------------------

  locations(includeUnavailable: boolean, endpoint?: string): Location[] {
    return locationsOf(this.catalog, endpoint).filter((l) => includeUnavailable || l.available);
  }

  private used(type: string, location: string): number {
    return this.state.instances.filter((r) => r.type === type && r.location === location && HOLDS_CAPACITY.has(r.status)).length;
  }

  instanceTypes(filter: { locations?: string[]; types?: string[] }): InstanceType[] {
    const listed = instanceTypesOf(
      this.catalog,
      (t, region) => this.used(t.type, region.name) < (t.capacity[region.name] ?? 0) && !this.faults.hiddenFromCatalog(t.type, region.name),
    ).filter(
      (it) =>
        (!filter.locations?.length || filter.locations.includes(it.location)) && (!filter.types?.length || filter.types.includes(it.type)),
    );
    // Injected fault: a second entry under the same ID with another price, as a provider's catalog
    // can list during a migration. Consumers must report it, not pick one silently.
    return listed.flatMap((it) =>
      this.faults.duplicatesInstanceTypeId(it.type, it.location)
        ? [it, { ...it, ...(it.basePrice ? { basePrice: { ...it.basePrice, amount: it.basePrice.amount + 1 } } : {}) }]
        : [it],
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Instances: reads
  // ---------------------------------------------------------------------------------------------

  private find(id: string): InstanceRecord | undefined {
    return this.state.instances.find((r) => r.id === id);
  }

  private mustFind(id: string): InstanceRecord {
    const r = this.find(id);
    if (!r) throw new CloudApiError('instance-not-found', `instance ${id} does not exist`);
    return r;
  }

  toInstance(r: InstanceRecord): Instance {
    const spec = this.typeSpec(r.type);
    const running = r.status === 'running';
    return {
      name: r.name,
      refId: r.refId,
      cloudCredRefId: r.cloudCredRefId,
      createdAt: r.createdAt,
      cloudId: r.id,
      publicIp: '127.0.0.1',
      publicDns: 'localhost',
      privateIp: '127.0.0.1',
      hostname: r.id,
      imageId: r.imageId || 'local-host',
      instanceType: r.type,
      instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: r.location, instanceType: r.type }),
      ...(spec ? { diskSize: bytes(spec.diskGiB, 'GiB') } : {}),
      sshUser: sshUser(),
      sshPort: running ? r.sshPort : 0,
      status: {
        lifecycleStatus: r.status,
        messages: [...r.messages],
        ...(r.interruption ? { interruption: r.interruption } : {}),
      },
      spot: r.spot,
      firewallRules: structuredClone(r.firewallRules),
      location: r.location,
      subLocation: '',
      tags: { ...r.tags },
      stoppable: true,
      rebootable: true,
      isContainer: false,
      notPrivileged: true,
      ...(r.terminatedAt ? { terminatedAt: r.terminatedAt } : {}),
    };
  }

  get(id: string): Instance {
    return this.toInstance(this.mustFind(id));
  }

  list(f: ListFilter, now = Date.now()): Instance[] {
    return this.state.instances
      .filter((r) => {
        if (f.ids?.length) {
          if (!f.ids.includes(r.id)) return false;
        } else if (r.status === 'terminated' && r.terminatedAt && now - Date.parse(r.terminatedAt) > TERMINATED_LISTED_MS) {
          return false;
        }
        if (f.locations?.length && !f.locations.includes(r.location)) return false;
        for (const [k, values] of Object.entries(f.tags ?? {})) {
          if (!(k in r.tags) || (values.length > 0 && !values.includes(r.tags[k]!))) return false;
        }
        return true;
      })
      .map((r) => this.toInstance(r));
  }

  stats(): LocalCloudStats {
    const byRefId: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    for (const r of this.state.instances) {
      byRefId[r.refId] = (byRefId[r.refId] ?? 0) + 1;
      byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    }
    return {
      createsAccepted: this.state.counters.createsAccepted,
      createRequests: this.state.counters.createRequests,
      byRefId,
      running: byStatus.running ?? 0,
      byStatus,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Instances: create
  // ---------------------------------------------------------------------------------------------

  /** Makes an instance, or returns the live one with the same refId (`created: false`). */
  async create(body: CreateBody): Promise<{ instance: Instance; created: boolean }> {
    this.state.counters.createRequests += 1;
    // A create with this refId still being made: answer with its instance once it exists.
    const inflight = this.inflightCreates.get(body.refId);
    if (inflight) return { instance: this.toInstance(await inflight), created: false };
    const existing = this.state.instances.find((r) => r.refId === body.refId && r.status !== 'terminated');
    if (existing) {
      this.persist().catch((e) => this.log.error({ err: e }, 'cannot persist counters'));
      return { instance: this.toInstance(existing), created: false };
    }

    const spec = this.placeable(body);
    const now = Date.now();
    const rec: InstanceRecord = {
      id: `lc-${randomBytes(6).toString('hex')}`,
      refId: body.refId,
      cloudCredRefId: body.cloudCredRefId,
      name: body.name,
      location: body.location,
      type: spec.type,
      publicKey: body.publicKey.trim(),
      spot: body.useSpot,
      tags: { ...body.tags },
      firewallRules: body.firewallRules,
      env: body.env,
      imageId: body.imageId,
      createdAt: new Date(now).toISOString(),
      status: 'pending',
      messages: ['booting'],
      sshPort: 0,
      bootAt: now + this.catalog.bootDelayMs,
    };
    // Synchronously recorded: a concurrent create with the same refId, or one racing for the last
    // unit of capacity, sees it.
    this.state.instances.push(rec);
    this.state.counters.createsAccepted += 1;
    const made = this.withLock(rec.id, async () => {
      try {
        await this.prepare(rec);
        await this.persist();
      } catch (err) {
        this.state.instances = this.state.instances.filter((r) => r !== rec);
        this.state.counters.createsAccepted -= 1;
        await removeInstanceDir(this.opts.dataDir, rec.id).catch(() => undefined);
        this.log.error({ err, refId: rec.refId }, 'create failed');
        throw new CloudApiError('internal-error', `cannot create the instance: ${(err as Error).message}`);
      }
      this.scheduleBoot(rec, this.catalog.bootDelayMs);
      this.log.info({ id: rec.id, refId: rec.refId, type: rec.type, location: rec.location, spot: rec.spot }, 'instance created');
      return rec;
    });
    this.inflightCreates.set(body.refId, made);
    try {
      return { instance: this.toInstance(await made), created: true };
    } finally {
      this.inflightCreates.delete(body.refId);
    }
  }

  /** Checks type, location, market, quota and capacity; throws the API error a real cloud would. */
  private placeable(body: CreateBody): LocalInstanceTypeSpec {
    const spec = findType(this.catalog, body.instanceType);
    if (!spec) {
      throw new CloudApiError(
        'invalid-request',
        `unknown instance type "${body.instanceType}" (known: ${this.catalog.instanceTypes.map((t) => t.type).join(', ')})`,
      );
    }
    const region = findRegion(this.catalog, body.location);
    if (!region) {
      throw new CloudApiError('invalid-request', `unknown location "${body.location}" (known: ${this.catalog.regions.map((r) => r.name).join(', ')})`);
    }
    if (!(region.name in spec.capacity)) {
      throw new CloudApiError(
        'invalid-request',
        `instance type "${spec.type}" is not offered in ${region.name} (offered in: ${Object.keys(spec.capacity).join(', ')})`,
      );
    }
    if (body.useSpot && spec.spotPricePerHour === undefined) {
      throw new CloudApiError('invalid-request', `instance type "${spec.type}" has no spot market: create it on demand (useSpot: false)`);
    }
    if (this.faults.quotaExceeded(spec.type, region.name)) {
      throw new CloudApiError('quota-exceeded', `quota exceeded for ${spec.type} in ${region.name}`);
    }
    if (!region.available || this.faults.outOfCapacity(spec.type, region.name, body.useSpot === true)) {
      throw new CloudApiError('insufficient-capacity', `not enough capacity for ${spec.type} in ${region.name}`);
    }
    const cap = spec.capacity[region.name] ?? 0;
    const used = this.used(spec.type, region.name);
    if (used >= cap) {
      throw new CloudApiError('insufficient-capacity', `not enough capacity for ${spec.type} in ${region.name} (${used} of ${cap} in use)`);
    }
    return spec;
  }

  private async prepare(rec: InstanceRecord): Promise<void> {
    const spec = this.typeSpec(rec.type);
    // Instances from state written before metadata tokens existed get one now (persisted by the caller).
    rec.metadataToken ??= newMetadataToken();
    await prepareInstanceDir({
      dataDir: this.opts.dataDir,
      id: rec.id,
      publicKey: rec.publicKey,
      gpu: spec ? resolveGpu(spec) : undefined,
      env: rec.env,
      tools: this.opts.tools,
      metadata: { token: rec.metadataToken, endpointFile: metadataEndpointFile(this.opts.dataDir) },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  private nextBootToken(id: string): number {
    const t = (this.bootTokens.get(id) ?? 0) + 1;
    this.bootTokens.set(id, t);
    return t;
  }

  private cancelBoot(id: string): void {
    const t = this.bootTimers.get(id);
    if (t) clearTimeout(t);
    this.bootTimers.delete(id);
    this.nextBootToken(id);
  }

  private scheduleBoot(rec: InstanceRecord, delayMs: number): void {
    this.cancelBoot(rec.id);
    const token = this.nextBootToken(rec.id);
    rec.bootAt = Date.now() + delayMs;
    const timer = setTimeout(() => {
      this.bootTimers.delete(rec.id);
      if (this.closed) return;
      this.withLock(rec.id, () => this.boot(rec, token)).catch((err) => this.log.error({ err, id: rec.id }, 'boot failed'));
    }, delayMs);
    this.bootTimers.set(rec.id, timer);
  }

  /** pending → running: starts sshd. Runs under the instance lock. */
  private async boot(rec: InstanceRecord, token: number): Promise<void> {
    if (this.closed || rec.status !== 'pending' || this.bootTokens.get(rec.id) !== token) return;
    const p = instancePaths(this.opts.dataDir, rec.id);
    const holder: { sshd?: RunningSshd } = {};
    try {
      const s = await startSshd(p, {
        preferredPort: rec.sshPort || undefined,
        tools: this.opts.tools,
        logger: this.log,
        onUnexpectedExit: (code, signal) => this.onSshdDied(rec, holder.sshd, code, signal),
      });
      holder.sshd = s;
      if (this.closed || rec.status !== 'pending' || this.bootTokens.get(rec.id) !== token) {
        await stopSshd(s, this.opts.killGraceMs);
        return;
      }
      this.sshds.set(rec.id, s);
      rec.sshPort = s.port;
      delete rec.bootAt;
      this.setStatus(rec, 'running', 'running');
      this.log.info({ id: rec.id, port: s.port }, 'instance running');
    } catch (err) {
      await this.markFailed(rec, `boot failed: ${(err as Error).message}`);
      return;
    }
    await this.persist();
  }

  private onSshdDied(rec: InstanceRecord, s: RunningSshd | undefined, code: number | null, signal: string | null): void {
    if (this.closed || !s || this.sshds.get(rec.id) !== s) return;
    this.log.warn({ id: rec.id, code, signal }, 'instance sshd exited unexpectedly; restarting it');
    this.sshds.delete(rec.id);
    const now = Date.now();
    const recent = (this.restarts.get(rec.id) ?? []).filter((t) => now - t < 60_000);
    recent.push(now);
    this.restarts.set(rec.id, recent);
    this.withLock(rec.id, async () => {
      if (this.closed || rec.status !== 'running' || this.sshds.has(rec.id)) return;
      if (recent.length > 5) {
        await this.markFailed(rec, 'sshd keeps exiting');
        return;
      }
      rec.status = 'pending';
      await this.boot(rec, this.nextBootToken(rec.id));
    }).catch((err) => this.log.error({ err, id: rec.id }, 'sshd restart failed'));
  }

  private setStatus(rec: InstanceRecord, status: LifecycleStatus, message: string): void {
    rec.status = status;
    rec.messages = [message];
  }

  private async markFailed(rec: InstanceRecord, message: string): Promise<void> {
    this.log.error({ id: rec.id, message }, 'instance failed');
    await this.killMachine(rec).catch(() => undefined);
    this.setStatus(rec, 'failed', message);
    await this.persist();
  }

  /** Stops the instance's sshd and every process started inside it. */
  private async killMachine(rec: InstanceRecord): Promise<number> {
    this.cancelBoot(rec.id);
    const s = this.sshds.get(rec.id);
    this.sshds.delete(rec.id);
    if (s) s.stopping = true;
    const n = await killInstanceProcesses(rec.id, s ? [s.pid] : [], this.opts.killGraceMs);
    if (s) await stopSshd(s, 0);
    await killStaleSshd(instancePaths(this.opts.dataDir, rec.id), this.log);
    return n;
  }

  private async end(rec: InstanceRecord, message: string, interruption?: 'preempted' | 'host-failure'): Promise<void> {
    this.setStatus(rec, 'terminating', message);
    if (interruption) rec.interruption = interruption;
    await this.persist();
    const killed = await this.killMachine(rec);
    await removeInstanceDir(this.opts.dataDir, rec.id);
    rec.terminatedAt = new Date().toISOString();
    delete rec.bootAt;
    this.setStatus(rec, 'terminated', message);
    await this.persist();
    this.log.info({ id: rec.id, killed, interruption }, 'instance terminated');
  }

  /** Idempotent; undefined when no such instance ever existed. */
  async terminate(id: string): Promise<Instance | undefined> {
    const rec = this.find(id);
    if (!rec) return undefined;
    await this.withLock(id, async () => {
      if (rec.status === 'terminated') return;
      await this.end(rec, 'terminated by request');
    });
    return this.toInstance(rec);
  }

  /** Spot preemption: the instance is killed and ends terminated with interruption "preempted". */
  async preempt(id: string, message?: string): Promise<Instance> {
    const rec = this.mustFind(id);
    if (!rec.spot) throw new CloudApiError('invalid-request', `instance ${id} is not a spot instance (use fail-host to kill an on-demand one)`);
    await this.withLock(id, async () => {
      if (rec.status === 'terminated') throw new CloudApiError('invalid-state', `instance ${id} is already terminated`);
      await this.end(rec, `spot instance preempted: ${message ?? 'capacity reclaimed by the provider'}`, 'preempted');
    });
    return this.toInstance(rec);
  }

  /**
   * Terminate asked from inside the instance (metadata endpoint, authenticated by the instance's
   * own token). Accepted at once and carried out in the background, since the caller is one of the
   * processes the termination kills. No `interruption` is set: the instance ended on purpose, and
   * its message (SELF_TERMINATED_MESSAGE) says from where.
   */
  selfTerminate(token: string, reason: string | undefined): Instance {
    const rec = this.state.instances.find((r) => r.metadataToken !== undefined && sameToken(r.metadataToken, token));
    if (!rec) throw new CloudApiError('unauthorized', 'unknown metadata token (send the instance\'s own token in the x-gpuflow-metadata-token header)');
    if (rec.status !== 'terminated' && rec.status !== 'terminating') {
      this.withLock(rec.id, async () => {
        if (rec.status === 'terminated') return;
        await this.end(rec, `${SELF_TERMINATED_MESSAGE}: ${reason ?? 'self-terminate'}`);
      }).catch((err: unknown) => this.log.error({ err, id: rec.id }, 'self-terminate failed'));
    }
    return this.toInstance(rec);
  }

  /** Host failure: the instance is killed and ends terminated with interruption "host-failure". */
  async failHost(id: string, message?: string): Promise<Instance> {
    const rec = this.mustFind(id);
    await this.withLock(id, async () => {
      if (rec.status === 'terminated') throw new CloudApiError('invalid-state', `instance ${id} is already terminated`);
      await this.end(rec, `host failure: ${message ?? 'the host stopped responding'}`, 'host-failure');
    });
    return this.toInstance(rec);
  }

  async stop(id: string): Promise<Instance> {
    const rec = this.mustFind(id);
    await this.withLock(id, async () => {
      if (rec.status === 'stopped') return;
      if (rec.status !== 'running' && rec.status !== 'pending') {
        throw new CloudApiError('invalid-state', `instance ${id} is ${rec.status}: only a running or pending instance can be stopped`);
      }
      this.setStatus(rec, 'stopping', 'stopping');
      await this.persist();
      await this.killMachine(rec);
      delete rec.bootAt;
      this.setStatus(rec, 'stopped', 'stopped by request');
      await this.persist();
    });
    return this.toInstance(rec);
  }

  async start(id: string): Promise<Instance> {
    const rec = this.mustFind(id);
    await this.withLock(id, async () => {
      if (rec.status === 'running' || rec.status === 'pending') return;
      if (rec.status !== 'stopped') {
        throw new CloudApiError('invalid-state', `instance ${id} is ${rec.status}: only a stopped instance can be started`);
      }
      this.setStatus(rec, 'pending', 'starting');
      this.scheduleBoot(rec, this.catalog.bootDelayMs);
      await this.persist();
    });
    return this.toInstance(rec);
  }

  async reboot(id: string): Promise<Instance> {
    const rec = this.mustFind(id);
    await this.withLock(id, async () => {
      if (rec.status === 'pending') return;
      if (rec.status !== 'running') {
        throw new CloudApiError('invalid-state', `instance ${id} is ${rec.status}: only a running instance can be rebooted`);
      }
      await this.killMachine(rec);
      this.setStatus(rec, 'pending', 'rebooting');
      this.scheduleBoot(rec, this.catalog.bootDelayMs);
      await this.persist();
    });
    return this.toInstance(rec);
  }

  async updateTags(id: string, tags: Tags): Promise<Instance> {
    const rec = this.mustFind(id);
    await this.withLock(id, async () => {
      if (rec.status === 'terminated') throw new CloudApiError('invalid-state', `instance ${id} is terminated`);
      rec.tags = { ...rec.tags, ...tags };
      await this.persist();
    });
    return this.toInstance(rec);
  }

  async setGpuUtilization(id: string, values: number[]): Promise<void> {
    const rec = this.mustFind(id);
    if (rec.status === 'terminated' || rec.status === 'terminating') {
      throw new CloudApiError('invalid-state', `instance ${id} is ${rec.status}`);
    }
    const gpus = this.typeSpec(rec.type);
    const count = gpus ? (resolveGpu(gpus)?.count ?? 0) : 0;
    if (values.length > count) {
      throw new CloudApiError('invalid-request', `instance ${id} has ${count} GPU(s); got ${values.length} values`);
    }
    await writeGpuUtilization(instancePaths(this.opts.dataDir, rec.id), values);
  }

  // ---------------------------------------------------------------------------------------------

  private withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }

  private persist(): Promise<void> {
    return this.writer.save(() => structuredClone(this.state));
  }

  /** Stops every sshd (instances stay running in the state, and come back at the next open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.bootTimers.values()) clearTimeout(t);
    this.bootTimers.clear();
    // Let lifecycle operations in flight finish before the sshds go.
    await Promise.all([...this.locks.values()]);
    await Promise.all([...this.sshds.values()].map((s) => stopSshd(s, this.opts.killGraceMs)));
    this.sshds.clear();
    await this.writer.flush();
    this.unlock();
  }

  /** Kills every sshd child synchronously (process exit hook). */
  killAllSshdSync(): void {
    for (const s of this.sshds.values()) {
      s.stopping = true;
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
