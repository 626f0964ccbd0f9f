/** A local cloud connection in connections.yaml, and the adapter the registry makes its credential with. */
import { z } from 'zod';
import { PER_SECOND } from '../../money/billing.js';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { commonConnectionFields } from '../adapter/connectionFields.js';
import { LocalCredential } from './credential.js';

export const LocalConnectionSchema = z
  .object({
    kind: z.literal('local'),
    ...commonConnectionFields,
    url: z.url('url must be the local cloud daemon URL, e.g. http://127.0.0.1:7600'),
    tokenFile: z.string().min(1, 'tokenFile must point to the file holding the bearer token').optional(),
  })
  .strict();
export type LocalConnection = z.output<typeof LocalConnectionSchema>;

export const localAdapter = defineProviderAdapter({
  kind: 'local',
  connectionSchema: LocalConnectionSchema,
  secretFileField: 'tokenFile',
  urlField: 'url',
  defaultBilling: PER_SECOND,
  credential: (c, secret) => new LocalCredential({ refId: c.name, url: c.url, token: secret }),
});
