/**
 * The workload spec at the boundary (CLI, embedding API): recipes expanded, then parsed with zod
 * so a bad spec fails with the field and the fix before any workflow starts. The schemas
 * themselves are pure and live in specSchema.ts (workflow code imports those, not this file:
 * recipe expansion reads the filesystem).
 */
import { expandRecipe } from '../recipes/recipe.js';
import { WorkloadSpecSchema, type WorkloadSpec } from './specSchema.js';

export * from './specSchema.js';

export class InvalidWorkloadSpecError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid workload spec:\n${issues.map((i) => `  - ${i.path || '(spec)'}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidWorkloadSpecError';
  }
}

/**
 * Validates a spec, expanding `recipe: { name, params }` first; throws InvalidWorkloadSpecError
 * naming each bad field.
 */
export function parseWorkloadSpec(input: unknown): WorkloadSpec {
  let raw = input;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'recipe' in raw) {
    const withRecipe = raw as Record<string, unknown>;
    if (withRecipe.command) throw new InvalidWorkloadSpecError([{ path: 'recipe', message: 'set either command or recipe, not both' }]);
    try {
      raw = expandRecipe(withRecipe);
    } catch (e) {
      throw new InvalidWorkloadSpecError(
        (e as Error).message.split('\n').map((line) => {
          const i = line.indexOf(': ');
          return i > 0 && !line.slice(0, i).includes(' ') ? { path: line.slice(0, i), message: line.slice(i + 2) } : { path: 'recipe', message: line };
        }),
      );
    }
  }
  const r = WorkloadSpecSchema.safeParse(raw);
  if (!r.success) {
    throw new InvalidWorkloadSpecError(
      r.error.issues.map((i) => ({
        path: i.path.map(String).join('.'),
        message:
          i.code === 'unrecognized_keys'
            ? `unknown field(s) ${i.keys.join(', ')}: check the spelling`
            : i.code === 'invalid_type' && /received undefined$/.test(i.message)
              ? `required: add ${i.path.map(String).join('.') || 'it'} (see the workload spec fields in the README)`
              : i.code === 'invalid_type'
                ? `must be ${i.expected === 'object' ? 'a mapping' : i.expected === 'array' ? 'a list' : `a ${i.expected}`} (${i.message.replace(/^Invalid input: /, '')})`
                : i.message,
      })),
    );
  }
  return r.data;
}
