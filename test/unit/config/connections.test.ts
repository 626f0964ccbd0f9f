/** connections.yaml: credentialRef for every kind, routing preferences, errors that name the field; in-place edits. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionSchema, ConnectionsFileSchema, loadConnections } from '../../../src/config/connections.js';
import { appendConnection, deleteConnection } from '../../../src/config/connectionsFile.js';
import { connectionSecret, describeSecretSource } from '../../../src/config/credentials/lookup.js';
import { Secret } from '../../../src/config/credentials/secret.js';
import { PROVIDER_ADAPTERS } from '../../../src/providers/adapters.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-connections-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const kinds = ConnectionSchema.options.map((o) => String(o.shape.kind.value));
const minimal = (kind: string, extra: Record<string, unknown> = {}) => ({ kind, name: `${kind}-a`, ...(kind === 'local' ? { url: 'http://127.0.0.1:7600' } : {}), ...extra });

function issues(input: unknown): string[] {
  const r = ConnectionsFileSchema.safeParse({ connections: [input] });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('connection schema', () => {
  it('accepts credentialRef instead of the secret file for every kind', () => {
    // other kinds may require fields of their own: only secret-source issues matter here
    for (const kind of kinds) {
      assert.deepEqual(issues(minimal(kind, { credentialRef: `${kind}-a` })).filter((m) => /credentialRef|apiKeyFile|tokenFile|Unrecognized/i.test(m)), [], kind);
    }
    for (const kind of ['local', 'lambda', 'shadeform']) assert.deepEqual(issues(minimal(kind, { credentialRef: `${kind}-a` })), [], kind);
  });

  it('requires exactly one secret source, naming the field and the fix', () => {
    for (const kind of ['local', 'lambda', 'shadeform']) {
      const file = kind === 'local' ? 'tokenFile' : 'apiKeyFile';
      const none = issues(minimal(kind));
      assert.equal(none.length, 1, `${kind}: ${none.join('; ')}`);
      assert.match(none[0]!, new RegExp(`^connections\\.0\\.${file}: set ${file} \\(a 0600 file holding the secret\\) or credentialRef`));
      const both = issues(minimal(kind, { credentialRef: 'x', [file]: '/k' }));
      assert.deepEqual(both, [`connections.0.credentialRef: set only one of ${file} and credentialRef`]);
    }
  });

  it('lets a connection name no secret source only where its adapter makes credentials without one (aws, gcp, ssh)', () => {
    // zod checks secret sources only once the kind's own required fields parse
    const required: Record<string, Record<string, unknown>> = {
      fluidstack: { regions: [{ name: 'finland-1', projectId: '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f', country: 'FI' }], prices: {} },
      aws: { regions: ['us-east-1'] },
      gcp: { regions: ['us-central1'], project: 'my-project' },
      azure: { regions: ['eastus'], resourceGroup: 'gpuflow' },
      nebius: { projects: { 'eu-north1': { projectId: 'project-e00abc', subnetId: 'vpcsubnet-e00abc' } } },
      ssh: { hosts: [{ host: 'gpu1', user: 'ml', identityFile: '/k' }], country: 'DEU', pricePerGpuHour: '1.00' },
    };
    for (const a of PROVIDER_ADAPTERS) {
      const none = issues(minimal(a.kind, required[a.kind]));
      assert.deepEqual(none.length, 'credentialWithoutSecret' in a ? 0 : 1, `${a.kind}: ${none.join('; ')}`);
      // The SSH fleet's secrets are its hosts' identity files: it has no secret file field to doubly set.
      if (!(a.secretFileField in a.connectionSchema.shape)) continue;
      assert.deepEqual(issues(minimal(a.kind, { ...required[a.kind], credentialRef: 'x', [a.secretFileField]: '/k' })), [`connections.0.credentialRef: set only one of ${a.secretFileField} and credentialRef`], a.kind);
    }
    assert.deepEqual(PROVIDER_ADAPTERS.filter((a) => 'credentialWithoutSecret' in a).map((a) => a.kind), ['aws', 'gcp', 'ssh']);
  });

  it('validates regionPreferences and defaultGpu with the fix in the message', () => {
    const bad = issues(minimal('lambda', { credentialRef: 'x', regionPreferences: ['eu west'], defaultGpu: 'H100:0' }));
    assert.deepEqual(bad.sort(), [
      'connections.0.defaultGpu: defaultGpu: use MODEL[:COUNT], e.g. H100:8 or "H100|A100:1"',
      'connections.0.regionPreferences.0: regionPreferences entries are region names or globs such as "us-*" or "eu-central-?"',
    ]);
    assert.deepEqual(issues(minimal('lambda', { credentialRef: 'x', regionPreferences: [] })), ['connections.0.regionPreferences: regionPreferences needs at least one region glob, or leave it out']);
    assert.deepEqual(issues(minimal('local', { credentialRef: 'x', regionPreferences: ['eu-*', 'us-east-?'], defaultGpu: 'H100|A100:8' })), []);
    assert.match(issues(minimal('lambda', { credentialRef: 'Bad Ref' }))[0]!, /credentialRef: connection names are lower-case/);
  });

  it('still refuses inline secrets', () => {
    assert.ok(issues(minimal('lambda', { credentialRef: 'x', apiKey: 'inline' })).some((m) => /apiKey/.test(m)));
  });
});

describe('secret sources', () => {
  it('reads the store for credentialRef and the file otherwise; describes both without the secret', () => {
    const keyFile = join(dir, 'k');
    writeFileSync(keyFile, 'file-secret\n', { mode: 0o600 });
    const lookup = () => ({ get: (ref: string) => new Secret(`stored-${ref}`) });
    assert.equal(connectionSecret({ name: 'a', credentialRef: 'a' }, lookup).reveal(), 'stored-a');
    assert.equal(connectionSecret({ name: 'b', apiKeyFile: keyFile }, () => assert.fail('store not opened for file sources')).reveal(), 'file-secret');
    assert.equal(describeSecretSource({ name: 'a', credentialRef: 'a' }), 'store:a');
    assert.equal(describeSecretSource({ name: 'b', tokenFile: keyFile }), `file:${keyFile}`);
  });
});

describe('connections file edits', () => {
  it('appends and removes connections in place, keeping comments and other entries, mode 0600', () => {
    const file = join(dir, 'connections.yaml');
    writeFileSync(file, '# team connections\nconnections:\n  # the dev cloud\n  - kind: local\n    name: local\n    url: http://127.0.0.1:7600\n    tokenFile: /tmp/token\n');
    appendConnection(file, { kind: 'lambda', name: 'lambda-us', credentialRef: 'lambda-us', spendingCap: { amount: '100', period: 'day' }, regionPreferences: ['us-*'] });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /# team connections/);
    assert.match(text, /# the dev cloud/);
    assert.deepEqual(loadConnections(file).map((c) => c.name), ['local', 'lambda-us']);
    assert.equal(loadConnections(file)[1]!.spendingCap?.period, 'day');

    assert.throws(() => appendConnection(file, { kind: 'lambda', name: 'lambda-us', credentialRef: 'lambda-us' }), /already exists/);
    assert.throws(() => appendConnection(file, { kind: 'lambda', name: 'other' }), /would be invalid, nothing was changed:\n {2}- connections\.2\.apiKeyFile: set apiKeyFile/);
    assert.deepEqual(loadConnections(file).map((c) => c.name), ['local', 'lambda-us'], 'a refused edit changes nothing');

    assert.equal(deleteConnection(file, 'local'), true);
    assert.equal(deleteConnection(file, 'local'), false);
    assert.deepEqual(loadConnections(file).map((c) => c.name), ['lambda-us']);
    assert.match(readFileSync(file, 'utf8'), /# team connections/);
  });

  it('creates the file on the first add', () => {
    const file = join(dir, 'new', 'connections.yaml');
    appendConnection(file, { kind: 'local', name: 'l', url: 'http://127.0.0.1:1', credentialRef: 'l' });
    assert.deepEqual(loadConnections(file).map((c) => c.kind), ['local']);
  });
});
