/**
 * Lambda Cloud regions and their countries. Lambda's API names regions (`PublicRegionCode` in the
 * v1.8.3 spec, 17 codes) and describes them ("California, USA") but gives no country, so the
 * country comes from this table: the 17 codes of the spec plus two older ones that Brev's Lambda
 * provider still listed (australia-southeast-1, europe-south-1). Descriptions are Lambda's own as
 * Brev recorded them; us-midwest-2 is in the spec's enum without a description anywhere we could
 * read, so its description here is ours.
 */
export interface LambdaRegion {
  readonly name: string;
  readonly description: string;
  /** ISO 3166-1 alpha-3. */
  readonly country: string;
}

export const LAMBDA_REGIONS: readonly LambdaRegion[] = [
  { name: 'us-west-1', description: 'California, USA', country: 'USA' },
  { name: 'us-west-2', description: 'Arizona, USA', country: 'USA' },
  { name: 'us-west-3', description: 'Utah, USA', country: 'USA' },
  { name: 'us-south-1', description: 'Texas, USA', country: 'USA' },
  { name: 'us-south-2', description: 'North Texas, USA', country: 'USA' },
  { name: 'us-south-3', description: 'Central Texas, USA', country: 'USA' },
  { name: 'us-east-1', description: 'Virginia, USA', country: 'USA' },
  { name: 'us-east-2', description: 'Washington D.C, USA', country: 'USA' },
  { name: 'us-east-3', description: 'Washington D.C, USA', country: 'USA' },
  { name: 'us-midwest-1', description: 'Illinois, USA', country: 'USA' },
  { name: 'us-midwest-2', description: 'Midwest, USA', country: 'USA' },
  { name: 'europe-central-1', description: 'Germany', country: 'DEU' },
  { name: 'europe-south-1', description: 'Italy', country: 'ITA' },
  { name: 'asia-south-1', description: 'India', country: 'IND' },
  { name: 'asia-northeast-1', description: 'Osaka, Japan', country: 'JPN' },
  { name: 'asia-northeast-2', description: 'Tokyo, Japan', country: 'JPN' },
  { name: 'australia-east-1', description: 'Sydney, Australia', country: 'AUS' },
  { name: 'australia-southeast-1', description: 'Australia', country: 'AUS' },
  { name: 'me-west-1', description: 'Israel', country: 'ISR' },
];

/** The region codes of the v1.8.3 spec's `PublicRegionCode` enum (what launch accepts). */
export const LAMBDA_PUBLIC_REGION_CODES: readonly string[] = [
  'europe-central-1',
  'asia-south-1',
  'australia-east-1',
  'me-west-1',
  'asia-northeast-1',
  'asia-northeast-2',
  'us-east-1',
  'us-west-2',
  'us-west-1',
  'us-south-1',
  'us-west-3',
  'us-midwest-1',
  'us-east-2',
  'us-south-2',
  'us-south-3',
  'us-east-3',
  'us-midwest-2',
];

const BY_NAME: ReadonlyMap<string, LambdaRegion> = new Map(LAMBDA_REGIONS.map((r) => [r.name, r]));

export function lambdaRegion(name: string): LambdaRegion | undefined {
  return BY_NAME.get(name);
}

/**
 * The country of a Lambda region: from the table, else "us-*" is the USA. Any other unknown code
 * has no country we can vouch for and returns undefined (callers leave such regions out).
 */
export function lambdaRegionCountry(name: string): string | undefined {
  return BY_NAME.get(name)?.country ?? (/^us-/.test(name) ? 'USA' : undefined);
}
