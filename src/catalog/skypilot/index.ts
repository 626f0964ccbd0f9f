/** SkyPilot catalogs (`<cloud>/vms.csv`) as gpuflow offers and as a local-cloud catalog. */
export { catalogPrice, parseSkypilotCsv, readSkypilotCatalog, skypilotCatalogFiles, SKYPILOT_CONNECTION_PREFIX } from './reader.js';
export type { ReadOptions, SkippedRow, SkypilotCatalog } from './reader.js';
export { REGION_PREFIX_COUNTRY, regionCountry } from './regions.js';
export type { CountrySource } from './regions.js';
export { offersToLocalCatalog, skypilotToLocalCatalog } from './toLocalCatalog.js';
export type { LocalCatalogFromSkypilot, ToLocalCatalogOptions } from './toLocalCatalog.js';
