/** The Google Compute Engine provider (@google-cloud/compute). See README.md for what is supported. */
export { GcpCredential, GcpCredentialOptionsSchema, DEFAULT_GCP_CATALOG_FILE, type GcpCredentialOptions } from './credential.js';
export { GcpClient, GCP_CAPABILITIES, instanceNameFor, labelValueFor, requestIdFor, sshKeysMetadata } from './client.js';
export { GCP_ACCELERATORS, gcpAccelerator, gcpGpu, gcpInstanceTypes, gcpZonePrice, parseGcpCatalogCsv, PD_BALANCED_PRICE_PER_GB_HOUR, type GceMachineType, type GcpCatalogRow } from './catalog.js';
export { cloudIdOf, gceStatus, gcpInstance, parseCloudId, preemptedInstance, type GceInstance } from './instances.js';
export { callGce, GCP_ERROR_TABLE, GCP_THROTTLE_RETRY_AFTER_MS, gcpErrorFrom, gcpErrorReason, gcpHttpStatus, gcpOperationError, quotaScope, type GcpErrorKind, type GcpErrorRule } from './errors.js';
export { GCP_REGIONS, gcpRegionCountry, regionOfZone, type GcpRegionInfo } from './regions.js';
export { gcpAdapter, GcpConnectionSchema, type GcpConnection } from './connection.js';
export * from './api.js';
