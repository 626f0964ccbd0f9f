/** Roles per project (or per tenant, covering its projects) and what each may do. */
import { z } from 'zod';

export const ROLES = ['viewer', 'member', 'admin'] as const;
export const RoleSchema = z.enum(ROLES, { message: 'role must be viewer, member or admin' });
export type Role = (typeof ROLES)[number];

/**
 * viewer: read the project (workloads, costs, budgets, logs). member: also launch, and stop its own
 * workloads. admin: also stop anyone's, budgets, provider connections and members.
 */
export type Permission = 'read' | 'launch' | 'stop-own' | 'stop-any' | 'budget' | 'members' | 'connections';

const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  member: ['read', 'launch', 'stop-own'],
  admin: ['read', 'launch', 'stop-own', 'stop-any', 'budget', 'members', 'connections'],
};

export function roleAllows(role: Role | undefined, p: Permission): boolean {
  return !!role && GRANTS[role].includes(p);
}

export function higherRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (!a) return b;
  if (!b) return a;
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}
