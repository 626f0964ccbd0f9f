import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NO_SUB_LOCATION, makeGenericInstanceTypeId, makeGenericInstanceTypeIdFromInstance } from '../../../../src/providers/sdk/ids.js';

describe('makeGenericInstanceTypeId', () => {
  test('uses noSub without availability zones', () => {
    assert.equal(NO_SUB_LOCATION, 'noSub');
    assert.equal(makeGenericInstanceTypeId({ location: 'us-east-1', type: 'gpu_1x_h100' }), 'us-east-1-noSub-gpu_1x_h100');
    assert.equal(makeGenericInstanceTypeId({ location: 'us-east-1', availableAzs: [], type: 'gpu_1x_h100' }), 'us-east-1-noSub-gpu_1x_h100');
  });

  test('uses the first availability zone', () => {
    assert.equal(makeGenericInstanceTypeId({ location: 'us-east-1', availableAzs: ['us-east-1b', 'us-east-1a'], type: 't' }), 'us-east-1-us-east-1b-t');
  });

  test('an explicit id wins', () => {
    assert.equal(makeGenericInstanceTypeId({ id: 'custom', location: 'us-east-1', availableAzs: ['a'], type: 't' }), 'custom');
    assert.equal(makeGenericInstanceTypeId({ id: '', location: 'l', type: 't' }), 'l-noSub-t', 'an empty id is no id');
  });
});

describe('makeGenericInstanceTypeIdFromInstance', () => {
  test('uses noSub without a subLocation', () => {
    assert.equal(makeGenericInstanceTypeIdFromInstance({ location: 'us-east-1', instanceType: 'gpu_1x_h100' }), 'us-east-1-noSub-gpu_1x_h100');
    assert.equal(makeGenericInstanceTypeIdFromInstance({ location: 'us-east-1', subLocation: '', instanceType: 't' }), 'us-east-1-noSub-t');
  });

  test('uses the subLocation', () => {
    assert.equal(makeGenericInstanceTypeIdFromInstance({ location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 't' }), 'us-east-1-us-east-1a-t');
  });

  test('an explicit instanceTypeId wins', () => {
    assert.equal(makeGenericInstanceTypeIdFromInstance({ instanceTypeId: 'it-1', location: 'l', subLocation: 's', instanceType: 't' }), 'it-1');
  });
});

describe('the two helpers are not symmetric', () => {
  test('a type with zones and an instance without a subLocation give different ids', () => {
    const typeId = makeGenericInstanceTypeId({ location: 'eu', availableAzs: ['eu-a'], type: 't' });
    const instanceId = makeGenericInstanceTypeIdFromInstance({ location: 'eu', subLocation: '', instanceType: 't' });
    assert.equal(typeId, 'eu-eu-a-t');
    assert.equal(instanceId, 'eu-noSub-t');
    assert.notEqual(typeId, instanceId);
  });

  test('they agree when the instance is placed in the first zone, or neither has one', () => {
    assert.equal(
      makeGenericInstanceTypeId({ location: 'eu', availableAzs: ['eu-a', 'eu-b'], type: 't' }),
      makeGenericInstanceTypeIdFromInstance({ location: 'eu', subLocation: 'eu-a', instanceType: 't' }),
    );
    assert.equal(makeGenericInstanceTypeId({ location: 'eu', type: 't' }), makeGenericInstanceTypeIdFromInstance({ location: 'eu', instanceType: 't' }));
  });

  test('an instance in a later zone does not match the type id', () => {
    assert.notEqual(
      makeGenericInstanceTypeId({ location: 'eu', availableAzs: ['eu-a', 'eu-b'], type: 't' }),
      makeGenericInstanceTypeIdFromInstance({ location: 'eu', subLocation: 'eu-b', instanceType: 't' }),
    );
  });
});
