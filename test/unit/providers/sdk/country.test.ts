import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isAlpha3, toAlpha3 } from '../../../../src/providers/sdk/country.js';

describe('isAlpha3', () => {
  test('accepts upper-case alpha-3 codes', () => {
    for (const c of ['USA', 'DEU', 'FIN', 'JPN', 'GBR']) assert.equal(isAlpha3(c), true, c);
  });

  test('rejects alpha-2, lower case, names and made-up codes', () => {
    for (const c of ['US', 'DE', 'usa', 'Deu', 'Germany', 'XYZ', '', 'USAA']) assert.equal(isAlpha3(c), false, c);
  });
});

describe('toAlpha3', () => {
  test('converts alpha-2 in any case', () => {
    assert.equal(toAlpha3('DE'), 'DEU');
    assert.equal(toAlpha3('us'), 'USA');
    assert.equal(toAlpha3(' fi '), 'FIN');
  });

  test('normalizes alpha-3 case', () => {
    assert.equal(toAlpha3('deu'), 'DEU');
    assert.equal(toAlpha3('USA'), 'USA');
  });

  test('undefined for anything that is no country', () => {
    for (const c of ['Germany', 'XX', 'XYZ', '', 'U']) assert.equal(toAlpha3(c), undefined, c);
  });
});
