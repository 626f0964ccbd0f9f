/** The Shadeform provider (API v1). See README.md for what is supported. */
export { ShadeformCredential, ShadeformCredentialOptionsSchema, type ShadeformCredentialOptions } from './credential.js';
export {
  ShadeformClient,
  SHADEFORM_CAPABILITIES,
  SHADEFORM_TAGS,
  encodeShadeformTags,
  parseShadeformTags,
  shadeformGpu,
  shadeformInstance,
  shadeformInstanceTypes,
  shadeformLocations,
  shadeformStatus,
  shadeformTypeId,
  shadeformTypeName,
  splitShadeformType,
  sshKeyNameFor,
} from './client.js';
export { callShadeform, shadeformErrorFromResponse, SHADEFORM_DEFAULT_RATE_LIMIT_WAIT_MS, type ShadeformHttpTarget, type ShadeformOperation } from './http.js';
export { shadeformRegionCountry } from './regions.js';
export * from './api.js';
