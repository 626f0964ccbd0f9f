/** Instance type ID helpers with the contract's `noSub` convention. */
export const NO_SUB_LOCATION = 'noSub';

/** A stable ID unique across regions: `<location>-<subLocation|noSub>-<type>`, unless the type has one. */
export function makeGenericInstanceTypeId(it: { id?: string; location: string; availableAzs?: string[]; type: string }): string {
  if (it.id) return it.id;
  const sub = it.availableAzs && it.availableAzs.length > 0 ? it.availableAzs[0] : NO_SUB_LOCATION;
  return `${it.location}-${sub}-${it.type}`;
}

/**
 * The instance-side twin: built from the instance's SubLocation, not from AvailableAzs. An instance's
 * `instanceTypeId` must equal the ID of the instance type it was created from.
 */
export function makeGenericInstanceTypeIdFromInstance(i: {
  instanceTypeId?: string;
  location: string;
  subLocation?: string;
  instanceType: string;
}): string {
  if (i.instanceTypeId) return i.instanceTypeId;
  const sub = i.subLocation ? i.subLocation : NO_SUB_LOCATION;
  return `${i.location}-${sub}-${i.instanceType}`;
}
