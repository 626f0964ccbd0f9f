import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gpuIdle, idleStep } from '../../../src/workflows/idleShutdownPolicy.js';
import { releaseLostRegionBlocks } from '../../../src/workflows/recoveryPolicy.js';

const cfg = { utilizationBelowPercent: 5, idleWindow: 300_000, sampleInterval: 30_000, requireNoSshSessions: false };

describe('idle shutdown rule', () => {
  it('a sample is idle when every GPU is under the threshold; no sample is not idle', () => {
    assert.equal(gpuIdle(cfg, [0, 4.9]), true);
    assert.equal(gpuIdle(cfg, [0, 5]), false);
    assert.equal(gpuIdle(cfg, []), false);
  });
  it('shuts down once idle for the whole window; a busy sample restarts it', () => {
    let s = idleStep(cfg, undefined, true, 1_000);
    assert.deepEqual(s, { idleSinceMs: 1_000, shutdown: false });
    s = idleStep(cfg, s.idleSinceMs, true, 300_999);
    assert.equal(s.shutdown, false);
    assert.deepEqual(idleStep(cfg, s.idleSinceMs, false, 301_000), { idleSinceMs: undefined, shutdown: false });
    assert.equal(idleStep(cfg, 1_000, true, 301_000).shutdown, true);
  });
});

describe('releaseLostRegionBlocks', () => {
  it('drops only the lost-region blocks and says how many', () => {
    const blocked = [
      { connection: 'a', scope: 'region' as const, location: 'x', reason: 'InstanceLost' },
      { connection: 'a', scope: 'provider' as const, reason: 'AuthenticationError' },
    ];
    assert.equal(releaseLostRegionBlocks(blocked), 1);
    assert.deepEqual(blocked.map((b) => b.reason), ['AuthenticationError']);
    assert.equal(releaseLostRegionBlocks(blocked), 0);
  });
});
