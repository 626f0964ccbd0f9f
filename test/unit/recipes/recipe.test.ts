import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { expandRecipe, findRecipe, listRecipes, renderCommand, resolveParams } from '../../../src/recipes/recipe.js';
import { parseWorkloadSpec, InvalidWorkloadSpecError } from '../../../src/workload/spec.js';

describe('recipes', () => {
  it('lists the built-in recipes, each valid', () => {
    assert.ok(listRecipes().some((r) => r.name === 'smoke-test'));
  });

  it('renders parameters shell-quoted, so values cannot inject commands', () => {
    const r = { ...findRecipe('smoke-test'), command: 'echo {{ msg }}', params: { msg: { type: 'string' as const, description: '' } } };
    assert.equal(renderCommand(r, { msg: "a'; rm -rf /" }), `echo 'a'\\''; rm -rf /'`);
  });

  it('fills defaults and coerces CLI-style strings', () => {
    const r = findRecipe('smoke-test');
    assert.deepEqual(resolveParams(r, { seconds: '3' }), { seconds: 3, utilization: 90 });
  });

  it('names bad parameters and what the recipe takes', () => {
    const r = findRecipe('smoke-test');
    assert.throws(() => resolveParams(r, { seconds: 'soon', colour: 'red' }), /recipe\.params\.colour: recipe "smoke-test" has no such parameter[\s\S]*recipe\.params\.seconds: must be a number/);
  });

  it('expands into a full spec: recipe defaults under the user’s fields', () => {
    const spec = parseWorkloadSpec({ name: 'smoke', recipe: { name: 'smoke-test', params: { seconds: 2 } }, spot: 'never' });
    assert.equal(spec.spot, 'never');
    assert.deepEqual(spec.gpu.classes, ['L4', 'RTX4090', 'A100', 'H100']);
    assert.match(spec.command!, /sleep '2'/);
    assert.deepEqual(spec.recipeRef, { name: 'smoke-test', params: { seconds: 2, utilization: 90 } });
  });

  it('rejects an unknown recipe and command-plus-recipe clearly', () => {
    assert.throws(() => parseWorkloadSpec({ name: 'x', recipe: { name: 'nope' } }), (e: Error) => e instanceof InvalidWorkloadSpecError && /recipe\.name: no recipe "nope"/.test(e.message));
    assert.throws(() => parseWorkloadSpec({ name: 'x', command: 'true', recipe: { name: 'smoke-test' } }), /either command or recipe/);
    assert.equal(expandRecipe({ name: 'plain', command: 'true' }).command, 'true');
  });
});
