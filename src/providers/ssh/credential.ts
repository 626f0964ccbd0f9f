/**
 * Credential of an SSH fleet connection: the hosts, their private keys (read from the identity
 * files when the credential is made, held non-enumerable), pricing and the region.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { lazyLogger } from '../../logging/logger.js';
import type { CloudClient } from '../sdk/client.js';
import { GlobalApiCredential, hashedTenantId, parseCredentialOptions, refIdOption } from '../sdk/credential.js';
import { SSH_FLEET_CAPABILITIES, SSH_FLEET_PROVIDER_ID } from './api.js';
import type { FleetHostConfig } from './client.js';
import { SshFleetHostSchema } from './hostConfig.js';

export const SshFleetCredentialOptionsSchema = z
  .object({
    refId: refIdOption,
    hosts: z.array(SshFleetHostSchema).min(1, 'hosts must list at least one machine'),
    identityFile: z.string().min(1).optional(),
    /** The private key of hosts naming no identityFile (a stored secret). */
    defaultPrivateKey: z.string().min(1).optional(),
    region: z.string().min(1).default('on-prem'),
    country: z.string().length(3),
    pricePerGpuHour: z.string().min(1),
    gpuPrices: z.record(z.string(), z.string()).optional(),
    currency: z.string().default('USD'),
    hostLostAfterMs: z.number().int().positive().default(60_000),
    instancePollMs: z.number().int().positive().default(2_000),
    /** Per SSH call; default 60 s (a claim may wait on another worker's lock). */
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();
export type SshFleetCredentialOptions = z.input<typeof SshFleetCredentialOptionsSchema>;

const logger = lazyLogger('ssh');

function readKey(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`invalid ssh fleet credential: ${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export class SshFleetCredential extends GlobalApiCredential {
  readonly options: Omit<z.output<typeof SshFleetCredentialOptionsSchema>, 'defaultPrivateKey'>;
  /** Per host name: its private key (not enumerable: kept out of JSON, logs and inspection). */
  declare readonly privateKeys: ReadonlyMap<string, string>;
  readonly hostConfigs: FleetHostConfig[];

  constructor(opts: SshFleetCredentialOptions) {
    const { defaultPrivateKey, ...data } = parseCredentialOptions(SshFleetCredentialOptionsSchema, opts, 'ssh fleet');
    super(data.refId, SSH_FLEET_PROVIDER_ID, SSH_FLEET_CAPABILITIES);
    this.options = data;
    const keys = new Map<string, string>();
    this.hostConfigs = data.hosts.map((h, i) => {
      const name = h.name ?? h.host;
      const file = h.identityFile ?? data.identityFile;
      const key = file ? readKey(file, h.identityFile ? `hosts[${i}].identityFile` : 'identityFile') : defaultPrivateKey;
      if (!key) throw new Error(`invalid ssh fleet credential: hosts[${i}].identityFile: set identityFile on the host or the connection`);
      keys.set(name, key);
      const [from, to] = h.leasePorts.split('-').map(Number) as [number, number];
      return { name, host: h.host, port: h.port, user: h.user, region: h.region ?? data.region, declaredGpus: h.gpus, listenAddress: h.listenAddress, leasePorts: { from, to } };
    });
    Object.defineProperty(this, 'privateKeys', { value: keys, enumerable: false, writable: false });
  }

  /** One fleet is the set of its machines: a hash of their addresses and users. */
  override async getTenantId(): Promise<string> {
    return hashedTenantId('ssh', this.hostConfigs.map((h) => `${h.user}@${h.host}:${h.port}`).sort().join(','));
  }

  override async makeClient(location: string): Promise<CloudClient> {
    // ssh2 loads with the first client, not whenever connections.yaml is read.
    const { SshFleetClient } = await import('./client.js');
    return new SshFleetClient(this, location);
  }

  logger() {
    return logger();
  }

  toJSON(): Record<string, unknown> {
    return { provider: SSH_FLEET_PROVIDER_ID, refId: this.refId, hosts: this.hostConfigs.map((h) => `${h.user}@${h.host}:${h.port}`) };
  }
}
