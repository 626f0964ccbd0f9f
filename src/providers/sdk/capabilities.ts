import { z } from 'zod';

/** Wire values are the Brev SDK's, so capability lists are portable between the two. */
export const CAPABILITIES = [
  'create-instance',
  'create-instance-idempotent',
  'terminate-instance',
  'create-terminate-instance',
  'instance-userdata',
  'tags',
  'reboot-instance',
  'resize-instance-volume',
  'stop-start-instance',
  'machine-image',
  'modify-firewall',
  'vpc',
  'managed-kubernetes',
] as const;
export const CapabilitySchema = z.enum(CAPABILITIES);
export type Capability = z.infer<typeof CapabilitySchema>;

export function isCapable(caps: readonly Capability[], c: Capability): boolean {
  return caps.includes(c);
}
