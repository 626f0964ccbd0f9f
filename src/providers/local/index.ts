/** The local cloud provider: adapter, admin client, and (for tests and the CLI) the daemon. */
export { LocalCredential, LocalCredentialOptionsSchema, DEFAULT_LOCAL_SETTINGS, type LocalCredentialOptions } from './credential.js';
export { LocalClient, LOCAL_CAPABILITIES, type LocalClientCredential } from './client.js';
export { LocalCloudAdmin } from './admin.js';
export { callApi, errorFromResponse, parseRetryAfter, type HttpTarget } from './http.js';
export * from './api.js';
export {
  LocalCatalogSchema,
  DEFAULT_CATALOG_INPUT,
  defaultCatalog,
  loadCatalogFile,
  parseCatalog,
  readGpuDescription,
  type LocalCatalog,
  type LocalCatalogInput,
  type LocalInstanceTypeSpec,
  type LocalRegion,
} from './daemon/catalog.js';
export { startLocalCloud, type LocalCloudHandle, type LocalCloudOptions } from './daemon/server.js';
export { localAdapter, LocalConnectionSchema, type LocalConnection } from './connection.js';
