/** Checking and applying the contract's method arguments inside adapters. */
import type { z } from 'zod';
import { InvalidRequestError } from './errors.js';
import { isAllLocations, type Instance, type ListInstancesArgs } from './types.js';

/** Arguments that fail the contract's schema: a bad request of the caller, named field by field. */
export function invalidArgs(what: string, e: z.ZodError): InvalidRequestError {
  return new InvalidRequestError(`${what}: ${e.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ')}`);
}

/**
 * Whether an instance is selected by listInstances arguments (IDs, locations, tag filters), for
 * APIs that cannot filter server-side. An explicit empty ID list selects nothing.
 */
export function isInstanceSelectedByArgs(i: Instance, a: ListInstancesArgs): boolean {
  return (
    (!a.instanceIds || a.instanceIds.includes(i.cloudId)) &&
    (isAllLocations(a.locations) || a.locations!.includes(i.location)) &&
    Object.entries(a.tagFilters ?? {}).every(([k, vs]) => i.tags[k] !== undefined && vs.includes(i.tags[k]))
  );
}
