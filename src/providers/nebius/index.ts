/** The Nebius AI Cloud provider (Compute v1 over gRPC, published protos). See README.md. */
export { NebiusCredential, NebiusCredentialOptionsSchema, type NebiusCredentialOptions } from './credential.js';
export { NebiusClient, NEBIUS_CAPABILITIES, cloudInitFor, instanceNameFor, isPreempted, labelValueFor, nebiusInstance, nebiusStatus } from './client.js';
export { DEFAULT_NEBIUS_PRICE_FILE, NETWORK_SSD_PRICE_PER_GIB_HOUR, nebiusGpu, nebiusInstanceTypes, parseNebiusPriceCsv, splitNebiusType, type NebiusPriceRow } from './catalog.js';
export { asNebiusError, nebiusErrorFrom } from './errors.js';
export { NEBIUS_REGIONS, nebiusRegionCountry } from './regions.js';
export { nebiusAdapter, NebiusConnectionSchema, type NebiusConnection } from './connection.js';
export * from './api.js';
