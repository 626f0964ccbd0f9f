/** Typed client of the daemon's admin API: fault injection and test hooks. */
import { z } from 'zod';
import { InstanceSchema, type Instance } from '../sdk/types.js';
import { FaultsSchema, LocalCloudStatsSchema, type LocalCloudStats, type LocalFaults, type LocalFaultsInput } from './api.js';
import { callApi, type HttpTarget } from './http.js';
import { LocalCatalogSchema, type LocalCatalog, type LocalCatalogInput } from './daemon/catalog.js';

const enc = encodeURIComponent;

export class LocalCloudAdmin {
  private readonly target: HttpTarget;

  constructor(opts: { url: string; token: string; timeoutMs?: number }) {
    this.target = { url: opts.url, token: opts.token, timeoutMs: opts.timeoutMs };
  }

  /** Replaces every fault (what is not given is cleared). Returns the faults now in force. */
  async setFaults(faults: LocalFaultsInput): Promise<LocalFaults> {
    const { data } = await callApi(this.target, 'PUT', '/admin/faults', FaultsSchema, { body: FaultsSchema.parse(faults) });
    return data!;
  }

  async getFaults(): Promise<LocalFaults> {
    const { data } = await callApi(this.target, 'GET', '/admin/faults', FaultsSchema);
    return data!;
  }

  async clearFaults(): Promise<void> {
    await callApi(this.target, 'DELETE', '/admin/faults', z.unknown());
  }

  /** Spot preemption: the instance is killed and shows `terminated` with interruption "preempted". */
  async preempt(instanceId: string, message?: string): Promise<Instance> {
    const { data } = await callApi(this.target, 'POST', `/admin/instances/${enc(instanceId)}/preempt`, InstanceSchema, {
      body: message === undefined ? {} : { message },
    });
    return data!;
  }

  /** Host failure: the instance is killed and shows `terminated` with interruption "host-failure". */
  async failHost(instanceId: string, message?: string): Promise<Instance> {
    const { data } = await callApi(this.target, 'POST', `/admin/instances/${enc(instanceId)}/fail-host`, InstanceSchema, {
      body: message === undefined ? {} : { message },
    });
    return data!;
  }

  /** What the instance's nvidia-smi reports as utilization, one percent per GPU. */
  async setGpuUtilization(instanceId: string, values: number[]): Promise<void> {
    await callApi(this.target, 'PUT', `/admin/instances/${enc(instanceId)}/gpu-utilization`, z.unknown(), { body: { values } });
  }

  /** The catalog the daemon serves now. */
  async getCatalog(): Promise<LocalCatalog> {
    const { data } = await callApi(this.target, 'GET', '/admin/catalog', LocalCatalogSchema);
    return data!;
  }

  /**
   * Replaces the catalog (in memory; a restart serves the --catalog file again): change prices, add
   * or remove types and regions. Instances of removed types keep running.
   */
  async setCatalog(catalog: LocalCatalogInput): Promise<LocalCatalog> {
    const { data } = await callApi(this.target, 'PUT', '/admin/catalog', LocalCatalogSchema, { body: LocalCatalogSchema.parse(catalog) });
    return data!;
  }

  async stats(): Promise<LocalCloudStats> {
    const { data } = await callApi(this.target, 'GET', '/admin/stats', LocalCloudStatsSchema);
    return data!;
  }
}
