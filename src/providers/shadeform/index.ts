/** The Shadeform provider (API v1). See README.md for what is supported. */
export { ShadeformCredential, ShadeformCredentialOptionsSchema, type ShadeformCredentialOptions } from './credential.js';
export { ShadeformClient, SHADEFORM_CAPABILITIES, type ShadeformClientCredential } from './client.js';
export { shadeformGpu, shadeformInstanceTypes, shadeformLocations, shadeformTypeId, shadeformTypeName, splitShadeformType } from './catalog.js';
export { SHADEFORM_TAGS, encodeShadeformTags, parseShadeformTags, shadeformInstance, shadeformStatus, sshKeyNameFor } from './instances.js';
export { callShadeform, shadeformErrorFromResponse, SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS, type ShadeformHttpTarget, type ShadeformOperation } from './http.js';
export { shadeformRegionCountry } from './regions.js';
export * from './api.js';
export { shadeformAdapter, ShadeformConnectionSchema, type ShadeformConnection } from './connection.js';
