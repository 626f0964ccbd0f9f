/**
 * The FluidStack regions a connection uses. Each region is its own API host
 * (`https://<region>.atlas.fluidstack.io/api/v1alpha1`) with its own projects, and the
 * infrastructure API names neither regions nor countries, so each region is configured with the
 * project to use there and its country (ISO 3166-1 alpha-2 or alpha-3, stored as alpha-3).
 */
import { z } from 'zod';
import { toAlpha3 } from '../sdk/country.js';
import { fluidstackRegionUrl } from './api.js';

export const FluidstackRegionConfigSchema = z
  .object({
    /** The region's name, as in its host name (`<name>.atlas.fluidstack.io`); also the contract's location. */
    name: z
      .string({ message: 'regions[].name is required, e.g. "finland-1" for finland-1.atlas.fluidstack.io' })
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'regions[].name must be lower-case letters, digits and "-" (the region part of its host name)'),
    /** The project's UUID in this region (sent as X-PROJECT-ID; FluidStack's ATLAS_PROJECT_ID). */
    projectId: z.uuid({ message: 'regions[].projectId must be the UUID of a FluidStack project in that region' }),
    /** Where the region is: ISO 3166-1 alpha-2 or alpha-3 ("FI", "FIN"). */
    country: z.string().transform((c, ctx) => {
      const a3 = toAlpha3(c);
      if (!a3) {
        ctx.addIssue({ code: 'custom', message: `regions[].country "${c}" is not an ISO 3166-1 country code such as FI or FIN` });
        return z.NEVER;
      }
      return a3;
    }),
    /** Default: the spec's server for `name`; tests point it at a replica. */
    url: z.url({ message: 'regions[].url must be a URL such as https://finland-1.atlas.fluidstack.io/api/v1alpha1' }).optional(),
    description: z.string().optional(),
  })
  .strict();
export type FluidstackRegionConfig = z.input<typeof FluidstackRegionConfigSchema>;

/** A configured region, resolved. */
export interface FluidstackRegion {
  name: string;
  projectId: string;
  /** ISO 3166-1 alpha-3. */
  country: string;
  /** Base URL including /api/v1alpha1, without a trailing slash. */
  url: string;
  description: string;
}

export function resolveRegion(r: z.output<typeof FluidstackRegionConfigSchema>): FluidstackRegion {
  return {
    name: r.name,
    projectId: r.projectId,
    country: r.country,
    url: (r.url ?? fluidstackRegionUrl(r.name)).replace(/\/+$/, ''),
    description: r.description ?? `FluidStack ${r.name}`,
  };
}
