/**
 * The conformance suite against the local cloud (built-in catalog): catalog checks plus one real
 * instance (an OpenSSH sshd on 127.0.0.1) created, checked over SSH, stopped, started, rebooted and
 * terminated.
 *
 *   node --import tsx --test test/conformance/local.test.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { LocalCredential, startLocalCloud, type LocalCloudHandle } from '../../src/providers/local/index.js';
import { runConformanceSuite } from './suite.js';

let cloud: LocalCloudHandle | undefined;
let dir: string | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-conformance-local-'));
  cloud = await startLocalCloud({ dataDir: join(dir, 'data'), token: randomBytes(16).toString('hex'), port: 0 });
});

after(async () => {
  try {
    await cloud?.close();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

runConformanceSuite({
  name: 'local',
  // A function: the daemon's URL is only known once the `before` hook above has started it.
  credential: () => new LocalCredential({ refId: 'conformance-local', url: cloud!.url, token: cloud!.token }),
  stableIds: ['us-east-noSub-gpu_1x_h100_sxm5', 'eu-north-noSub-gpu_1x_rtx4090'],
});
