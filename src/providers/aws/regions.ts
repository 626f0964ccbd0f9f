/**
 * AWS regions → country. EC2's DescribeRegions names a region and its endpoint, not where it is,
 * so the country comes from this table. Source: AWS's "AWS Regions" list in the Global
 * Infrastructure documentation (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html:
 * region code, name and geography), read 2026-12. Codes are ISO 3166-1 alpha-2, checked and
 * turned into alpha-3 through i18n-iso-countries; a region not in the table is left out of the
 * catalog (not guessed), and the README says so.
 */
import { toAlpha3 } from '../sdk/country.js';

export interface AwsRegionInfo {
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** AWS's name for it, e.g. "US East (N. Virginia)". */
  name: string;
}

export const AWS_REGIONS: Readonly<Record<string, AwsRegionInfo>> = {
  'us-east-1': { country: 'US', name: 'US East (N. Virginia)' },
  'us-east-2': { country: 'US', name: 'US East (Ohio)' },
  'us-west-1': { country: 'US', name: 'US West (N. California)' },
  'us-west-2': { country: 'US', name: 'US West (Oregon)' },
  'us-gov-east-1': { country: 'US', name: 'AWS GovCloud (US-East)' },
  'us-gov-west-1': { country: 'US', name: 'AWS GovCloud (US-West)' },
  'af-south-1': { country: 'ZA', name: 'Africa (Cape Town)' },
  'ap-east-1': { country: 'HK', name: 'Asia Pacific (Hong Kong)' },
  'ap-east-2': { country: 'TW', name: 'Asia Pacific (Taipei)' },
  'ap-south-1': { country: 'IN', name: 'Asia Pacific (Mumbai)' },
  'ap-south-2': { country: 'IN', name: 'Asia Pacific (Hyderabad)' },
  'ap-southeast-1': { country: 'SG', name: 'Asia Pacific (Singapore)' },
  'ap-southeast-2': { country: 'AU', name: 'Asia Pacific (Sydney)' },
  'ap-southeast-3': { country: 'ID', name: 'Asia Pacific (Jakarta)' },
  'ap-southeast-4': { country: 'AU', name: 'Asia Pacific (Melbourne)' },
  'ap-southeast-5': { country: 'MY', name: 'Asia Pacific (Malaysia)' },
  'ap-southeast-6': { country: 'NZ', name: 'Asia Pacific (New Zealand)' },
  'ap-southeast-7': { country: 'TH', name: 'Asia Pacific (Thailand)' },
  'ap-northeast-1': { country: 'JP', name: 'Asia Pacific (Tokyo)' },
  'ap-northeast-2': { country: 'KR', name: 'Asia Pacific (Seoul)' },
  'ap-northeast-3': { country: 'JP', name: 'Asia Pacific (Osaka)' },
  'ca-central-1': { country: 'CA', name: 'Canada (Central)' },
  'ca-west-1': { country: 'CA', name: 'Canada West (Calgary)' },
  'eu-central-1': { country: 'DE', name: 'Europe (Frankfurt)' },
  'eu-central-2': { country: 'CH', name: 'Europe (Zurich)' },
  'eu-west-1': { country: 'IE', name: 'Europe (Ireland)' },
  'eu-west-2': { country: 'GB', name: 'Europe (London)' },
  'eu-west-3': { country: 'FR', name: 'Europe (Paris)' },
  'eu-south-1': { country: 'IT', name: 'Europe (Milan)' },
  'eu-south-2': { country: 'ES', name: 'Europe (Spain)' },
  'eu-north-1': { country: 'SE', name: 'Europe (Stockholm)' },
  'il-central-1': { country: 'IL', name: 'Israel (Tel Aviv)' },
  'me-south-1': { country: 'BH', name: 'Middle East (Bahrain)' },
  'me-central-1': { country: 'AE', name: 'Middle East (UAE)' },
  'mx-central-1': { country: 'MX', name: 'Mexico (Central)' },
  'sa-east-1': { country: 'BR', name: 'South America (São Paulo)' },
};

/** The region's alpha-3 country, or undefined when the table does not know the region. */
export function awsRegionCountry(region: string): string | undefined {
  const r = AWS_REGIONS[region];
  return r ? toAlpha3(r.country) : undefined;
}
