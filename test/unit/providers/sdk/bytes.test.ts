import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BYTE_UNITS, BytesSchema, byteCount, byteCountIn, bytes, compareBytes } from '../../../../src/providers/sdk/bytes.js';

describe('bytes', () => {
  test('unit sizes: decimal and binary', () => {
    assert.equal(BYTE_UNITS.KB, 1000n);
    assert.equal(BYTE_UNITS.KiB, 1024n);
    assert.equal(BYTE_UNITS.GB, 1_000_000_000n);
    assert.equal(BYTE_UNITS.GiB, 1_073_741_824n);
    assert.equal(BYTE_UNITS.PiB, 2n ** 50n);
  });

  test('bytes() builds the {value, unit} form', () => {
    assert.deepEqual(bytes(80, 'GiB'), { value: 80, unit: 'GiB' });
  });

  test('bytes() rejects negative, fractional and unknown units', () => {
    assert.throws(() => bytes(-1, 'GiB'));
    assert.throws(() => bytes(1.5, 'GiB'));
    assert.throws(() => bytes(1, 'gb' as never));
  });

  test('the schema is strict: extra keys are refused', () => {
    assert.equal(BytesSchema.safeParse({ value: 1, unit: 'GB', bytes: 1 }).success, false);
    assert.equal(BytesSchema.safeParse({ value: 1, unit: 'GB' }).success, true);
  });

  test('byteCount is exact beyond 2^53', () => {
    assert.equal(byteCount({ value: 80, unit: 'GiB' }), 85_899_345_920n);
    assert.equal(byteCount({ value: 9000, unit: 'PiB' }), 9000n * 2n ** 50n);
  });

  test('byteCountIn truncates: 80 GB is 74 GiB, 1 TiB is 1024 GiB', () => {
    assert.equal(byteCountIn({ value: 80, unit: 'GB' }, 'GiB'), 74);
    assert.equal(byteCountIn({ value: 1, unit: 'TiB' }, 'GiB'), 1024);
    assert.equal(byteCountIn({ value: 1, unit: 'GiB' }, 'GB'), 1);
    assert.equal(byteCountIn({ value: 1, unit: 'GiB' }, 'MB'), 1073);
  });

  test('compareBytes across units', () => {
    assert.equal(compareBytes({ value: 1, unit: 'GiB' }, { value: 1, unit: 'GB' }), 1);
    assert.equal(compareBytes({ value: 1000, unit: 'MB' }, { value: 1, unit: 'GB' }), 0);
    assert.equal(compareBytes({ value: 1023, unit: 'MiB' }, { value: 1, unit: 'GiB' }), -1);
  });
});
