/**
 * `gpuflow offers` on the live catalog: a local cloud seeded from the shared SkyPilot catalog
 * (`local-cloud --from-skypilot DIR`), read through a connections file as the worker reads it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ensureToken, writeConnections } from '../../../src/cli/devEnvironment.js';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { killHard } from '../../helpers/environment.js';
import { SKYPILOT_CATALOG_DIR } from '../../helpers/skypilotCatalog.js';

const run = promisify(execFile);
const CATALOG = SKYPILOT_CATALOG_DIR;

let dir: string;
let daemon: ChildProcess | undefined;
let connections: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-offers-live-'));
  const tokenFile = join(dir, 'token');
  ensureToken(tokenFile);
  daemon = spawn(process.execPath, [...nodeEntryArgs('providers/local/daemon/main'), '--data-dir', join(dir, 'data'), '--token-file', tokenFile, '--from-skypilot', CATALOG], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, GPUFLOW_LOG_LEVEL: 'warn' },
  });
  const [line] = (await once(createInterface({ input: daemon.stdout! }), 'line')) as [string];
  const { url } = JSON.parse(line) as { url: string };
  connections = join(dir, 'connections.yaml');
  writeConnections(connections, [{ kind: 'local', name: 'local', url, tokenFile }]);
});

after(async () => {
  if (daemon) await killHard(daemon);
  rmSync(dir, { recursive: true, force: true });
});

describe('gpuflow offers on the live catalog', () => {
  it('ranks the seeded providers, regions and prices through the connections file', async () => {
    const r = await run(process.execPath, [...nodeEntryArgs('cli/main'), 'offers', '--connections', connections, '--gpu', 'H100:8', '--country', 'EU', '--spot', 'allow', '--json'], { timeout: 60_000 });
    const offers = JSON.parse(r.stdout) as { connection: string; location: string; country: string; spot: boolean; pricePerHour: string }[];
    assert.ok(offers.length > 0);
    assert.ok(offers.every((o) => o.connection === 'local'));
    // The same cheapest EU 8x H100 as the catalog itself: nebius eu-north1 spot at 10.00.
    assert.deepEqual([offers[0]!.location, offers[0]!.country, offers[0]!.spot, offers[0]!.pricePerHour], ['nebius-eu-north1', 'FIN', true, '10.00']);
  });
});
