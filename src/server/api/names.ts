/** Names of tenants, projects and connections in the API: one rule, safe in URLs and visibility queries. */
import { z } from 'zod';

export const entityName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'names are 1-64 letters, digits, ".", "_" or "-"');
