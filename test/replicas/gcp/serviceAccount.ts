/** A throwaway service-account key for tests: an RSA key pair and the JSON Google would write for it. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { GcpServiceAccountKey } from '../../../src/providers/gcp/index.js';

export function testServiceAccount(project = 'gpuflow-test-project'): { key: GcpServiceAccountKey; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `gpuflow@${project}.iam.gserviceaccount.com`;
  return {
    key: {
      type: 'service_account',
      project_id: project,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: email,
      client_id: String(100_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9))),
      token_uri: 'https://oauth2.googleapis.com/token',
    },
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
