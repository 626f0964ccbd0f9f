/** `defaultGpu`: only for workloads that name no GPU, only from connections they may use, never ambiguous. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseDefaultGpu, workloadNamesGpu } from '../../../src/cli/defaultGpu.js';
import type { Connection } from '../../../src/config/connections.js';

const conn = (name: string, kind: 'local' | 'lambda', defaultGpu?: string): Connection =>
  kind === 'local'
    ? { kind, name, url: 'http://127.0.0.1:1', credentialRef: name, ...(defaultGpu ? { defaultGpu } : {}) }
    : { kind, name, credentialRef: name, ...(defaultGpu ? { defaultGpu } : {}) };

describe('defaultGpu', () => {
  it('applies only when neither the spec nor its recipe names a GPU', () => {
    assert.equal(workloadNamesGpu({ name: 'a', command: 'x', gpu: { classes: ['L4'] } }), true);
    assert.equal(workloadNamesGpu({ name: 'a', command: 'x' }), false);
    assert.equal(workloadNamesGpu({ name: 'a', recipe: { name: 'smoke-test', params: {} } }), true, 'smoke-test has a default GPU');
    assert.equal(workloadNamesGpu({ name: 'a', recipe: { name: 'no-such-recipe' } }), true, 'a bad recipe is left to spec validation');
  });

  it('uses the one default of the connections the workload may use', () => {
    const cs = [conn('lambda-us', 'lambda', 'H100:8'), conn('local', 'local')];
    assert.deepEqual(chooseDefaultGpu({ name: 'a' }, cs), { gpu: { classes: ['H100'], count: 8 }, from: ['lambda-us'] });
    assert.equal(chooseDefaultGpu({ name: 'a', placement: { providers: { allow: ['local'] } } }, cs), undefined);
    assert.equal(chooseDefaultGpu({ name: 'a', placement: { providers: { deny: ['lambda'] } } }, cs), undefined, 'deny by kind');
  });

  it('merges agreeing defaults and refuses different ones with the choices and the fix', () => {
    const agree = [conn('a', 'lambda', 'L4:1'), conn('b', 'local', 'L4')];
    assert.deepEqual(chooseDefaultGpu({}, agree)?.from, ['a', 'b']);
    const differ = [conn('a', 'lambda', 'H100:8'), conn('b', 'local', 'L4:1')];
    assert.throws(() => chooseDefaultGpu({}, differ), /different default GPUs \(a: H100:8; b: L4:1\): pass --gpu, set gpu in the spec, or narrow placement\.providers\.allow/);
    assert.deepEqual(chooseDefaultGpu({ placement: { providers: { allow: ['b'] } } }, differ)?.gpu, { classes: ['L4'], count: 1 });
  });
});
