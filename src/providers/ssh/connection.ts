/**
 * An SSH fleet connection in connections.yaml (`kind: ssh`): the team's own GPU machines, reached
 * over SSH with identity files, priced at an internal rate per GPU-hour (owned hardware has no list
 * price; the rate makes cost tracking and budgets work as on a cloud). No secret source: each
 * host's `identityFile` (or the connection's) is read by the worker, like AWS's default chain.
 */
import { z } from 'zod';
import { PER_SECOND } from '../../money/billing.js';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { commonConnectionFields } from '../adapter/connectionFields.js';
import { CountryAlpha3Schema } from '../sdk/types.js';
import { SshFleetCredential } from './credential.js';
import { SshFleetHostSchema } from './hostConfig.js';

export { SshFleetHostSchema, type SshFleetHost } from './hostConfig.js';

const decimal = (field: string) => z.string().regex(/^\d+(\.\d+)?$/, `${field} must be a decimal amount per GPU-hour such as "1.20"`);

export const SshFleetConnectionSchema = z
  .object({
    kind: z.literal('ssh'),
    ...commonConnectionFields,
    hosts: z.array(SshFleetHostSchema).min(1, 'hosts must list at least one machine: { host, user, identityFile }'),
    /** The identity file of hosts that name none. */
    identityFile: z.string().min(1, 'identityFile must point to a private key (0600)').optional(),
    region: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'region names are lower-case letters, digits and "-"').default('on-prem'),
    /** Where the machines stand (ISO 3166-1 alpha-3), for data-residency routing. */
    country: CountryAlpha3Schema,
    /** Internal rate per GPU-hour, for GPUs `gpuPrices` does not name. */
    pricePerGpuHour: decimal('pricePerGpuHour'),
    /** Per model ("H100", "A100", "MI300X"): rate per GPU-hour. */
    gpuPrices: z.record(z.string().min(1), decimal('gpuPrices entries')).optional(),
    currency: z.enum(['USD', 'EUR', 'GBP']).default('USD'),
    /** How long a host may not answer before its leases count as lost (host failure). */
    hostLostAfterSeconds: z.number().int().positive().default(60),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.hosts.forEach((h, i) => {
      const name = h.name ?? h.host;
      if (names.has(name)) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `two hosts are named "${name}": give each a distinct name` });
      names.add(name);
      if (!h.identityFile && !c.identityFile && !c.credentialRef) {
        ctx.addIssue({ code: 'custom', path: ['hosts', i, 'identityFile'], message: 'set identityFile on the host or the connection (the private key gpuflow logs in with)' });
      }
    });
  });
export type SshFleetConnection = z.output<typeof SshFleetConnectionSchema>;

function credentialOf(c: SshFleetConnection, secret: string | undefined): SshFleetCredential {
  return new SshFleetCredential({
    refId: c.name,
    hosts: c.hosts,
    region: c.region,
    country: c.country,
    pricePerGpuHour: c.pricePerGpuHour,
    ...(c.gpuPrices ? { gpuPrices: c.gpuPrices } : {}),
    currency: c.currency,
    hostLostAfterMs: c.hostLostAfterSeconds * 1000,
    ...(c.identityFile ? { identityFile: c.identityFile } : {}),
    ...(secret !== undefined ? { defaultPrivateKey: secret } : {}),
  });
}

export const sshFleetAdapter = defineProviderAdapter({
  kind: 'ssh',
  connectionSchema: SshFleetConnectionSchema,
  secretFileField: 'apiKeyFile',
  urlField: 'url',
  // Owned machines: the internal rate accrues per second of a lease.
  defaultBilling: PER_SECOND,
  // With credentialRef, the stored secret is the private key of hosts that name no identityFile.
  credential: (c, secret) => credentialOf(c, secret),
  credentialWithoutSecret: (c) => credentialOf(c, undefined),
  configuredInFile:
    'list its hosts (host, user, identityFile), country and pricePerGpuHour in connections.yaml (README: "SSH fleets"), then check it with `gpuflow providers test <name>`',
});
