/**
 * Azure regions → country. ARM's `locations` list names a region and its display name, not its
 * country in ISO form, so the country comes from this table. Source: Microsoft's "Azure
 * geographies" page (azure.microsoft.com/explore/global-infrastructure/geographies: region name,
 * location), read 2026-12. Codes are ISO 3166-1 alpha-2, checked and turned into alpha-3 through
 * i18n-iso-countries (src/providers/sdk/country.ts); a region not in the table is refused in the
 * connection and left out of the catalog (not guessed).
 */
import { toAlpha3 } from '../sdk/country.js';

export interface AzureRegionInfo {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Azure's display location. */
  location: string;
}

export const AZURE_REGIONS: Readonly<Record<string, AzureRegionInfo>> = {
  eastus: { country: 'US', location: 'Virginia' },
  eastus2: { country: 'US', location: 'Virginia' },
  centralus: { country: 'US', location: 'Iowa' },
  northcentralus: { country: 'US', location: 'Illinois' },
  southcentralus: { country: 'US', location: 'Texas' },
  westcentralus: { country: 'US', location: 'Wyoming' },
  westus: { country: 'US', location: 'California' },
  westus2: { country: 'US', location: 'Washington' },
  westus3: { country: 'US', location: 'Arizona' },
  canadacentral: { country: 'CA', location: 'Toronto' },
  canadaeast: { country: 'CA', location: 'Quebec City' },
  brazilsouth: { country: 'BR', location: 'São Paulo State' },
  mexicocentral: { country: 'MX', location: 'Querétaro State' },
  northeurope: { country: 'IE', location: 'Ireland' },
  westeurope: { country: 'NL', location: 'Netherlands' },
  uksouth: { country: 'GB', location: 'London' },
  ukwest: { country: 'GB', location: 'Cardiff' },
  francecentral: { country: 'FR', location: 'Paris' },
  germanywestcentral: { country: 'DE', location: 'Frankfurt' },
  italynorth: { country: 'IT', location: 'Milan' },
  polandcentral: { country: 'PL', location: 'Warsaw' },
  spaincentral: { country: 'ES', location: 'Madrid' },
  swedencentral: { country: 'SE', location: 'Gävle' },
  switzerlandnorth: { country: 'CH', location: 'Zürich' },
  norwayeast: { country: 'NO', location: 'Oslo' },
  uaenorth: { country: 'AE', location: 'Dubai' },
  qatarcentral: { country: 'QA', location: 'Doha' },
  israelcentral: { country: 'IL', location: 'Israel' },
  southafricanorth: { country: 'ZA', location: 'Johannesburg' },
  centralindia: { country: 'IN', location: 'Pune' },
  southindia: { country: 'IN', location: 'Chennai' },
  japaneast: { country: 'JP', location: 'Tokyo, Saitama' },
  japanwest: { country: 'JP', location: 'Osaka' },
  koreacentral: { country: 'KR', location: 'Seoul' },
  southeastasia: { country: 'SG', location: 'Singapore' },
  eastasia: { country: 'HK', location: 'Hong Kong' },
  australiaeast: { country: 'AU', location: 'New South Wales' },
  australiasoutheast: { country: 'AU', location: 'Victoria' },
};

/** The region's alpha-3 country, or undefined when the table does not know the region. */
export function azureRegionCountry(region: string): string | undefined {
  const r = AZURE_REGIONS[region];
  return r ? toAlpha3(r.country) : undefined;
}
