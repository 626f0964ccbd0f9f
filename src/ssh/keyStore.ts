/** The worker's SSH identity: one ed25519 key, created on first use with 0600 permissions. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSshKeyPair } from './sshClient.js';

export function loadOrCreateSshKey(privateKeyFile: string): { privateKey: string; publicKey: string } {
  const pubFile = `${privateKeyFile}.pub`;
  if (existsSync(privateKeyFile) && existsSync(pubFile)) {
    return { privateKey: readFileSync(privateKeyFile, 'utf8'), publicKey: readFileSync(pubFile, 'utf8').trim() };
  }
  mkdirSync(dirname(privateKeyFile), { recursive: true, mode: 0o700 });
  const kp = generateSshKeyPair('gpuflow-worker');
  writeFileSync(privateKeyFile, kp.privateKey, { mode: 0o600, flag: 'wx' });
  writeFileSync(pubFile, `${kp.publicKey}\n`, { mode: 0o644 });
  return kp;
}
