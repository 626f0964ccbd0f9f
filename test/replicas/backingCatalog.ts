import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCatalogInput } from '../../src/providers/local/daemon/catalog.js';
import { startLocalCloud } from '../../src/providers/local/index.js';

/**
 * The local cloud behind a replica in tests: one cheap type with room for many instances, booting
 * fast. The replica decides what its own catalog says; this only provides the sshd machines.
 */
export const BACKING_CATALOG: LocalCatalogInput = {
  regions: [{ name: 'backing', description: 'replica backing hosts', country: 'USA' }],
  instanceTypes: [{ type: 'backing_host', gpuDescription: '1x L4 (24 GB PCIe)', vcpu: 4, memoryGiB: 16, diskGiB: 100, pricePerHour: '0.10', capacity: { backing: 100 } }],
  bootDelayMs: 200,
  instancePollMs: 300,
  instanceTypePollMs: 60_000,
  maxCreateRequestsPerMinute: 6000,
};

export const BACKING = { type: 'backing_host', location: 'backing' } as const;

/** A local cloud with {@link BACKING_CATALOG} in a temporary directory, for replica-backed tests. */
export async function startBackingCloud(): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-replica-backing-'));
  const cloud = await startLocalCloud({ dataDir: join(dir, 'data'), token: randomBytes(16).toString('hex'), port: 0, catalog: BACKING_CATALOG });
  return {
    url: cloud.url,
    token: cloud.token,
    async close() {
      try {
        await cloud.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
