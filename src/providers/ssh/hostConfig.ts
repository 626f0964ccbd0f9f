/** A fleet host in connections.yaml (shared by the connection schema and the credential options). */
import { z } from 'zod';

const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'leasePorts must be a port range such as "22000-22099"')
  .refine((s) => {
    const [a, b] = s.split('-').map(Number) as [number, number];
    return a >= 1024 && b <= 65535 && a <= b;
  }, 'leasePorts must lie within 1024-65535, low end first');

export const SshFleetHostSchema = z
  .object({
    /** How the fleet names the host (instance IDs carry it); default: `host`. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'host names are letters, digits, ".", "_" and "-"').optional(),
    host: z.string().min(1, 'host must be a hostname or IP address the worker reaches'),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1, 'user must be the account gpuflow logs in as'),
    identityFile: z.string().min(1, 'identityFile must point to the private key (0600) of that account').optional(),
    /** Location of the host's offers; default: the connection's `region`. */
    region: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'region names are lower-case letters, digits and "-"').optional(),
    /** Declared GPUs, for hosts without nvidia-smi/rocm-smi (discovery wins where it finds any). */
    gpus: z.object({ name: z.string().min(1, 'gpus.name is the model, e.g. "H100 80GB"'), count: z.number().int().positive() }).strict().optional(),
    /** Where each lease's sshd listens: an address the worker reaches (default 0.0.0.0). */
    listenAddress: z.string().regex(/^[0-9A-Za-z.:_-]+$/, 'listenAddress must be an IP address or hostname').default('0.0.0.0'),
    /** Ports for the leases' sshds; open them to the worker (default 22000-22099). */
    leasePorts: portRange.default('22000-22099'),
  })
  .strict();
export type SshFleetHost = z.output<typeof SshFleetHostSchema>;

