/**
 * The provider conformance suite (test/conformance/suite.ts, a port of the Brev validation suite)
 * against the local cloud with its built-in catalog: a real instance end to end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { DEFAULT_CATALOG_INPUT, LocalCredential, startLocalCloud, type LocalCloudHandle } from '../../../src/providers/local/index.js';
import { runConformanceSuite } from '../../conformance/suite.js';

let cloud: LocalCloudHandle | undefined;
let dir = '';
const token = randomBytes(16).toString('hex');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-local-conformance-'));
  cloud = await startLocalCloud({
    dataDir: join(dir, 'data'),
    token,
    catalog: { ...DEFAULT_CATALOG_INPUT, bootDelayMs: 200, instancePollMs: 200 },
    killGraceMs: 500,
  });
});

after(async () => {
  await cloud?.close();
  const leftovers = readdirSync('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  });
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(leftovers, [], `processes left under ${dir}`);
});

runConformanceSuite({
  name: 'local',
  credential: () => new LocalCredential({ refId: 'conformance', url: cloud!.url, token }),
  stableIds: ['us-east-noSub-gpu_1x_h100_sxm5', 'eu-north-noSub-gpu_1x_rtx4090', 'us-east-noSub-gpu_1x_l4'],
});
