/** Reads every connection's catalog and ranks offers against the workload's constraints. */
import { constraintsFromSpec } from '../routing/constraints.js';
import { offersFromInstanceTypes, type Offer } from '../routing/offer.js';
import { rankOffers } from '../routing/rankOffers.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PlanCandidatesInput, PlanCandidatesResult } from './types.js';

export async function collectOffers(registry: ProviderRegistry): Promise<{ offers: Offer[]; unreachable: PlanCandidatesResult['unreachable'] }> {
  const offers: Offer[] = [];
  const unreachable: PlanCandidatesResult['unreachable'] = [];
  await Promise.all(
    registry.names().map(async (name) => {
      try {
        const client = await registry.client(name);
        const [types, locations] = await Promise.all([client.getInstanceTypes({}), client.getLocations({})]);
        offers.push(...offersFromInstanceTypes(name, types, locations, new Date().toISOString()));
      } catch (e) {
        unreachable.push({ connection: name, error: (e as Error).message });
      }
    }),
  );
  return { offers, unreachable };
}

export function planCandidatesActivity(registry: ProviderRegistry) {
  return async function planCandidates(input: PlanCandidatesInput): Promise<PlanCandidatesResult> {
    const { offers, unreachable } = await collectOffers(registry);
    const ranking = rankOffers(offers, constraintsFromSpec(input.spec), { blocked: input.blocked, limit: input.limit });
    const counts = new Map<string, number>();
    for (const r of ranking.rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
    const rejectedReasons = [...counts.entries()]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, 10);
    return { candidates: ranking.candidates, offersConsidered: offers.length, rejectedReasons, unreachable };
  };
}
