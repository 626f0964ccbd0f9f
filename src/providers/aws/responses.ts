/**
 * zod schemas for the parts of EC2's answers the adapter reads, checked after the SDK parsed them.
 *
 * The SDK's XML deserializer is lenient by design: a number it cannot read becomes NaN, a boolean
 * it cannot read false, and any text passes as a string, so a spoiled 200 (a proxy's page, a
 * broken deploy, a wrong-typed value) would otherwise read as an empty catalog, an instance named
 * "10" or a state the adapter maps to "failed" (and a reconciler might then create another).
 * The identifiers have documented forms (`i-` + hex, `ami-`, `sg-`, a zone name that starts with
 * its region), which is what catches a value of the wrong type where XML has no types. Objects
 * stay loose: AWS adds fields.
 */
import { z } from 'zod';
import { EC2_STATE_NAMES } from './api.js';

const hexId = (prefix: string) => z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must be an EC2 ID such as ${prefix}-0123456789abcdef0`);
export const InstanceIdSchema = hexId('i');
const InstanceTypeNameSchema = z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'must be an instance type such as g6.xlarge');
/** A zone name starts with its region's ("us-east-1a", local zones "us-east-1-bos-1a"). */
const ZoneNameSchema = z.string().regex(/^[a-z]{2}(?:-gov)?-[a-z]+-\d+/, 'must be a zone name such as us-east-1a');
const Count = z.number().int().positive();

export const Ec2InstanceSchema = z.looseObject({
  InstanceId: InstanceIdSchema,
  InstanceType: InstanceTypeNameSchema,
  ImageId: z.string().optional(),
  LaunchTime: z.date().optional(),
  State: z.looseObject({ Code: z.number().int().nonnegative().optional(), Name: z.enum(EC2_STATE_NAMES) }),
  StateReason: z.looseObject({ Code: z.string().optional(), Message: z.string().optional() }).optional(),
  StateTransitionReason: z.string().optional(),
  Placement: z.looseObject({ AvailabilityZone: ZoneNameSchema.optional() }).optional(),
  PublicIpAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
  PublicDnsName: z.string().optional(),
  PrivateIpAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
  PrivateDnsName: z.string().optional(),
  InstanceLifecycle: z.enum(['spot', 'scheduled', 'capacity-block']).optional(),
  SpotInstanceRequestId: z.string().optional(),
  Tags: z.array(z.looseObject({ Key: z.string(), Value: z.string() })).optional(),
});

export const DescribeInstancesOutputSchema = z.looseObject({
  Reservations: z.array(z.looseObject({ Instances: z.array(Ec2InstanceSchema).optional() })).optional(),
  NextToken: z.string().optional(),
});

export const RunInstancesOutputSchema = z.looseObject({
  Instances: z.array(Ec2InstanceSchema).min(1, 'the answer names no instance'),
});

export const DescribeInstanceTypesOutputSchema = z.looseObject({
  InstanceTypes: z
    .array(
      z.looseObject({
        InstanceType: InstanceTypeNameSchema,
        VCpuInfo: z.looseObject({ DefaultVCpus: Count }),
        MemoryInfo: z.looseObject({ SizeInMiB: Count }),
        ProcessorInfo: z.looseObject({ SupportedArchitectures: z.array(z.enum(['i386', 'x86_64', 'arm64', 'x86_64_mac', 'arm64_mac'])) }).optional(),
        SupportedUsageClasses: z.array(z.enum(['spot', 'on-demand', 'capacity-block'])).optional(),
        GpuInfo: z
          .looseObject({
            Gpus: z.array(z.looseObject({ Name: z.string().min(1), Manufacturer: z.string().optional(), Count, MemoryInfo: z.looseObject({ SizeInMiB: Count }).optional() })).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
  NextToken: z.string().optional(),
});

export const DescribeAvailabilityZonesOutputSchema = z.looseObject({
  AvailabilityZones: z
    .array(z.looseObject({ ZoneName: ZoneNameSchema, ZoneId: z.string().regex(/^[a-z]+\d*-[a-z0-9-]+$/, 'must be a zone ID such as use1-az1').optional(), State: z.string().min(1).optional() }))
    .optional(),
});

export const DescribeSpotPriceHistoryOutputSchema = z.looseObject({
  SpotPriceHistory: z
    .array(
      z.looseObject({
        InstanceType: InstanceTypeNameSchema,
        AvailabilityZone: ZoneNameSchema,
        SpotPrice: z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal price such as 0.4012'),
        Timestamp: z.date().optional(),
      }),
    )
    .optional(),
  NextToken: z.string().optional(),
});

export const DescribeRegionsOutputSchema = z.looseObject({
  Regions: z.array(z.looseObject({ RegionName: z.string().regex(/^[a-z]{2}(?:-gov)?-[a-z]+-\d+$/, 'must be a region such as us-east-1'), OptInStatus: z.string().optional() })).optional(),
});

export const DescribeImagesOutputSchema = z.looseObject({
  Images: z.array(z.looseObject({ ImageId: hexId('ami'), CreationDate: z.string().optional(), RootDeviceName: z.string().regex(/^\/dev\//, 'must be a device such as /dev/sda1').optional() })).optional(),
});

export const CreateSecurityGroupOutputSchema = z.looseObject({ GroupId: hexId('sg') });

export const DescribeSecurityGroupsOutputSchema = z.looseObject({
  SecurityGroups: z.array(z.looseObject({ GroupId: hexId('sg'), IpPermissions: z.array(z.unknown()).optional() })).optional(),
});
