/** Offers (the `gpuflow offers` filters, with the explain view) and recipes. */
import { z } from 'zod';
import { collectOffers } from '../../../catalog/offers.js';
import { loadConnections } from '../../../config/connections.js';
import { ProviderRegistry } from '../../../providers/registry.js';
import { findRecipe, listRecipes, recipeDirs } from '../../../recipes/recipe.js';
import { constraintsFromSpec } from '../../../routing/constraints.js';
import { summarizeRejections } from '../../../routing/explain.js';
import { gpuMemoryGiB } from '../../../routing/gpuClass.js';
import type { Offer } from '../../../routing/offer.js';
import { priceText, rankOffers } from '../../../routing/rankOffers.js';
import { parseWorkloadSpec } from '../../../workload/spec.js';
import { HttpError, notFound } from '../errors.js';
import { rawBodyValidator } from '../documentedBody.js';
import type { RouteContext } from '../app.js';

/** The placement fields of a workload spec (documented here; validated by parseWorkloadSpec). */
export const OffersQueryBody = z
  .object({
    gpu: z.object({ classes: z.array(z.string()), count: z.union([z.number(), z.object({ min: z.number(), max: z.number() })]).optional(), minMemoryGiB: z.number().optional(), interconnect: z.union([z.string(), z.array(z.string())]).optional() }).optional().describe('default: any GPU'),
    spot: z.enum(['never', 'allow', 'only']).optional(),
    placement: z.object({ regions: z.array(z.string()).optional(), countries: z.array(z.string()).optional(), providers: z.object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional(), prefer: z.array(z.string()).optional() }).optional() }).optional(),
    resources: z.object({ minVcpu: z.number().optional(), minMemoryGiB: z.number().optional(), minDiskGiB: z.number().optional() }).optional(),
    maxPricePerHour: z.union([z.string(), z.number()]).optional(),
    maxPricePerGpuHour: z.union([z.string(), z.number()]).optional(),
    explain: z.boolean().default(false),
    limit: z.number().int().min(0).max(10_000).default(50),
  })
  .strict();

export function offerView(o: Offer) {
  return {
    provider: o.provider,
    connection: o.connection,
    instanceTypeId: o.instanceTypeId,
    type: o.type,
    location: o.location,
    country: o.country,
    gpu: o.gpu ? { name: o.gpu.name, count: o.gpu.count, memoryGiB: gpuMemoryGiB(o.gpu.memory), interconnect: o.gpu.networkDetails } : null,
    vcpu: o.vcpu,
    memoryGiB: o.memoryGiB,
    spot: o.spot,
    pricePerHour: priceText(o.pricePerHour),
    available: o.available,
    seenAt: o.seenAt,
  };
}

export function registerCatalogRoutes({ app, deps, authz }: RouteContext): void {
  let registry: ProviderRegistry | undefined;
  const providers = () => {
    if (!deps.connectionsFile) throw new HttpError(503, 'the server has no provider connections: start it with --connections FILE');
    registry ??= ProviderRegistry.fromConnections(loadConnections(deps.connectionsFile));
    return registry;
  };

  app.post('/v1/offers', { schema: { summary: 'The cheapest offers honouring the constraints, with why the rest were not chosen', tags: ['offers'], body: OffersQueryBody }, validatorCompiler: rawBodyValidator }, async (req) => {
    authz.principal(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const { explain, limit, ...rest } = body;
    const opts = z.object({ explain: z.boolean().default(false), limit: z.number().int().min(0).max(10_000).default(50) }).safeParse({ explain, limit });
    if (!opts.success) throw new HttpError(400, `invalid offers query: ${opts.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const constraints = constraintsFromSpec(parseWorkloadSpec({ name: 'offers', command: 'true', gpu: { classes: ['*'] }, ...rest }));
    const { offers, unreachable, sources } = await collectOffers(providers());
    const ranking = rankOffers(offers, constraints, { limit: opts.data.limit || undefined, explain: opts.data.explain });
    const summary = opts.data.explain ? summarizeRejections(ranking.rejected, { maxReasons: 5, maxExamples: 1 }) : undefined;
    return {
      offers: ranking.candidates.map(offerView),
      matched: ranking.matched,
      considered: offers.length,
      sources,
      unreachable,
      ...(summary ? { rejected: summary.kinds.map((k) => ({ kind: k.kind, count: k.count, reasons: k.reasons.map((r) => ({ reason: r.reason, count: r.count, ...(r.examples[0] ? { example: offerView(r.examples[0]) } : {}) })), moreReasons: k.moreReasons })) } : {}),
    };
  });

  const dirs = () => recipeDirs(deps.recipeDirs ?? []);
  app.get('/v1/recipes', { schema: { summary: 'Recipes (built-in and configured directories)', tags: ['recipes'] } }, async (req) => {
    authz.principal(req);
    return { recipes: listRecipes(dirs()) };
  });
  app.get('/v1/recipes/:name', { schema: { summary: 'One recipe', tags: ['recipes'], params: z.object({ name: z.string().min(1).max(100) }) } }, async (req) => {
    authz.principal(req);
    try {
      return findRecipe(req.params.name, dirs());
    } catch (e) {
      throw notFound(`recipe "${req.params.name}": ${(e as Error).message}`);
    }
  });
}
