/** The Vast.ai provider (REST API v0/v1). See README.md for what is supported. */
export { VastaiCredential, VastaiCredentialOptionsSchema, type VastaiCredentialOptions } from './credential.js';
export { VastaiClient, VASTAI_CAPABILITIES, VASTAI_ASKS_TRIED_PER_CREATE, type VastaiClientCredential } from './client.js';
export { priceFromNumber, splitVastType, vastArchitecture, vastGpu, vastInstanceTypes, vastLocations, vastTypeId, vastTypeName, vramGiB, type VastShape } from './catalog.js';
export { encodeVastLabel, parseVastLabel, vastInstance, vastSshEndpoint, vastStatus, VASTAI_LABEL_KEYS, VASTAI_LABEL_MAX, type VastIdentity } from './instances.js';
export { callVast, vastBackoffMs, vastErrorFromResponse, vastThresholdMs, VASTAI_BACKOFF_BASE_MS, type VastHttpTarget, type VastOperation } from './http.js';
export { parseVastGeolocation, type VastGeolocation } from './regions.js';
export * from './api.js';
export { vastaiAdapter, VastaiConnectionSchema, type VastaiConnection } from './connection.js';
