/** A fresh service principal for a replica run: random IDs and secret (never a real one). */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AzureServicePrincipal } from '../../../src/providers/azure/index.js';

export function testServicePrincipal(): AzureServicePrincipal {
  return { tenantId: randomUUID(), clientId: randomUUID(), clientSecret: `sec~${randomBytes(24).toString('base64url')}`, subscriptionId: randomUUID() };
}

export const TEST_RESOURCE_GROUP = 'gpuflow-rg';
