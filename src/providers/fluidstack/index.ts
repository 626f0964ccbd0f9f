/** The FluidStack provider (Infrastructure API v1alpha1). See README.md for what is supported. */
export { ALL_FLUIDSTACK_REGIONS, FluidstackCredential, FluidstackCredentialOptionsSchema, type FluidstackCredentialOptions } from './credential.js';
export { FluidstackClient, FLUIDSTACK_CAPABILITIES, type FluidstackClientCredential } from './client.js';
export { fluidstackGpu, fluidstackInstanceTypes, fluidstackLocation, fluidstackTypeId, normalizeFluidstackGpuModel } from './catalog.js';
export { checkFluidstackTags, FLUIDSTACK_SSH_PORT, FLUIDSTACK_SSH_USER, FLUIDSTACK_TAGS, fluidstackInstance, fluidstackStatus } from './instances.js';
export { callFluidstack, fluidstackErrorFromResponse, FLUIDSTACK_DEFAULT_RATE_LIMIT_WAIT_MS, type FluidstackHttpTarget, type FluidstackOperation } from './http.js';
export { CLOUD_CONFIG_HEADER, sshKeyUserData } from './cloudInit.js';
export { parseQuantity } from './quantity.js';
export { FluidstackPriceListSchema, pricesFor, type FluidstackPriceList } from './prices.js';
export { FluidstackRegionConfigSchema, resolveRegion, type FluidstackRegion, type FluidstackRegionConfig } from './regions.js';
export * from './api.js';
export { fluidstackAdapter, FluidstackConnectionSchema, type FluidstackConnection } from './connection.js';
