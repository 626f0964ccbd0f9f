/**
 * The SSH key goes in through cloud-init: FluidStack's create takes no key field, only base64
 * `userData` "for instance initialization". A `#cloud-config` document with top-level
 * `ssh_authorized_keys` adds the key to the image's default user (`ubuntu` on FluidStack's Ubuntu
 * images). Lines are not folded (`lineWidth: 0`): a key stays on one line, as every reader expects.
 */
import { stringify } from 'yaml';

export const CLOUD_CONFIG_HEADER = '#cloud-config';

/** The cloud-config document that authorizes `publicKey`, base64-encoded as `userData` wants it. */
export function sshKeyUserData(publicKey: string): string {
  const doc = `${CLOUD_CONFIG_HEADER}\n${stringify({ ssh_authorized_keys: [publicKey.trim()] }, { lineWidth: 0 })}`;
  return Buffer.from(doc, 'utf8').toString('base64');
}
