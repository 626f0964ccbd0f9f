/** The SSH fleet provider: a team's own GPU machines over SSH. See README.md. */
export { SshFleetCredential, SshFleetCredentialOptionsSchema, type SshFleetCredentialOptions } from './credential.js';
export { SSH_FLEET_CAPABILITIES } from './api.js';
export { SshFleetClient, leaseIdOf, type FleetHostConfig, type SshFleetClientCredential } from './client.js';
export { fleetInstanceTypes, fleetLocations, fleetTypeName, freeIndices, gpuGroups, pricePerGpuHour, sliceSizes, type CatalogHost, type FleetPricing, type GpuGroup } from './catalog.js';
export { fleetCloudId, fleetInstance, parseFleetCloudId } from './instances.js';
export { parseHostState, parseLeaseLine, parseNvidiaLine, parseRocmJson } from './hostState.js';
export { hostError, runHostScript, SSH_FLEET_ERRORS, type HostCommand, type HostFailure } from './transport.js';
export { EXIT_NO_FREE_GPUS, EXIT_NO_FREE_PORT, HOST_SCRIPT } from './hostScript.js';
export * from './api.js';
export { sshFleetAdapter, SshFleetConnectionSchema, SshFleetHostSchema, type SshFleetConnection, type SshFleetHost } from './connection.js';
