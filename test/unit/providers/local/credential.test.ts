import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { LOCAL_CAPABILITIES, LocalCredential } from '../../../../src/providers/local/index.js';
import { supportsFirewall, supportsReboot, supportsStopStart, supportsTags } from '../../../../src/providers/sdk/client.js';

describe('LocalCredential', () => {
  it('validates its options with clear messages', () => {
    assert.throws(() => new LocalCredential({ refId: '', url: 'http://127.0.0.1:1', token: 't' }), /refId \(the connection name\) must not be empty/);
    assert.throws(() => new LocalCredential({ refId: 'a', url: 'localhost', token: 't' }), /url must be the local cloud daemon URL/);
    assert.throws(() => new LocalCredential({ refId: 'a', url: 'ftp://x', token: 't' }), /url must start with http/);
    assert.throws(() => new LocalCredential({ refId: 'a', url: 'http://x', token: '' }), /token \(the daemon bearer token\) must not be empty/);
  });

  it('is a global "local" API with a stable tenant ID, and keeps the token out of logs', async () => {
    const a = new LocalCredential({ refId: 'lab', url: 'http://127.0.0.1:7600/', token: 'sekrit-token' });
    const b = new LocalCredential({ refId: 'other', url: 'http://127.0.0.1:7600', token: 'x' });
    assert.equal(a.getApiType(), 'global');
    assert.equal(a.getCloudProviderId(), 'local');
    assert.equal(a.getReferenceId(), 'lab');
    assert.equal(await a.getTenantId(), await b.getTenantId());
    assert.notEqual(await a.getTenantId(), await new LocalCredential({ refId: 'lab', url: 'http://127.0.0.1:7601', token: 'x' }).getTenantId());
    assert.match(await a.getTenantId(), /^local-[0-9a-f]{16}$/);
    assert.equal(a.token, 'sekrit-token');
    assert.doesNotMatch(JSON.stringify(a), /sekrit/);
    assert.doesNotMatch(inspect(a), /sekrit/);
  });

  it('makes a client even when the daemon is down, declaring exactly what it implements', async () => {
    const c = await new LocalCredential({ refId: 'lab', url: 'http://127.0.0.1:1', token: 't' }).makeClient('us-east');
    assert.deepEqual(await c.getCapabilities(), [...LOCAL_CAPABILITIES]);
    assert.equal(c.getReferenceId(), 'lab');
    assert.equal(c.getInstancePollTimeMs(), 1000);
    assert.ok(await supportsStopStart(c));
    assert.ok(await supportsReboot(c));
    assert.ok(await supportsTags(c));
    assert.equal(await supportsFirewall(c), false);
  });
});
