/** The Azure VMs provider (@azure/arm-compute, @azure/arm-network, @azure/identity). See README.md for what is supported. */
export { AzureCredential, AzureCredentialOptionsSchema, DEFAULT_AZURE_CATALOG_FILE, type AzureCredentialOptions } from './credential.js';
export { AzureClient, AZURE_CAPABILITIES, imageReference, ipNameFor, nicNameFor, vmNameFor, vmTags, vnetNameFor } from './client.js';
export { azureGpu, azureInstanceTypes, parseAzurePriceCsv, PREMIUM_SSD_PRICE_PER_GB_HOUR, type AzurePriceRow, type AzureResourceSku } from './catalog.js';
export { azureInstance, azureStatus, cloudIdOf, evictedInstance, parseCloudId, vmStates, type AzureVm } from './instances.js';
export { AZURE_ERROR_TABLE, AZURE_THROTTLE_RETRY_AFTER_MS, azureErrorCode, azureErrorFrom, azureHttpStatus, callAzure, retryAfterMsOf, type AzureErrorKind, type AzureErrorRule } from './errors.js';
export { AZURE_REGIONS, azureRegionCountry, type AzureRegionInfo } from './regions.js';
export { azureAdapter, AzureConnectionSchema, type AzureConnection } from './connection.js';
export * from './api.js';
