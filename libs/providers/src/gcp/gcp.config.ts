import { z } from 'zod';

const zoneSchema = z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/, "a GCP zone such as 'us-central1-a'");

/**
 * Credentials as plain values: the API decrypts them (SecretBox) and hands them over; the adapter
 * never prints them. 'service_account' is production; 'access_token' is a short-lived OAuth token
 * (and what tests use against the local Compute fake).
 */
export const gcpCredentialsSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('service_account'),
    clientEmail: z.email(),
    privateKey: z.string().min(1),
  }),
  z.strictObject({
    type: z.literal('access_token'),
    accessToken: z.string().min(1),
  }),
]);
export type GcpCredentials = z.infer<typeof gcpCredentialsSchema>;

export const gcpProviderConfigSchema = z.strictObject({
  projectId: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "a GCP project id such as 'anneal-prod'"),
  /** Zones offers come from; a zone the pricing catalog has no GPUs for lists nothing. */
  zones: z.array(zoneSchema).min(1),
  credentials: gcpCredentialsSchema,
  /** Only for pointing the client at a local Compute REST fake (tests). Production leaves it out. */
  endpoint: z
    .strictObject({
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      protocol: z.enum(['http', 'https']).default('https'),
    })
    .optional(),
  /** Boot image with NVIDIA drivers (Deep Learning VM family by default). */
  sourceImage: z.string().min(1).default('projects/deeplearning-platform-release/global/images/family/common-cu124-debian-11-py310'),
  bootDiskGb: z.number().int().min(50).max(10_000).default(200),
  network: z.string().min(1).default('global/networks/default'),
  /** The service account the VM runs as (it deletes its own instance when the agent finishes). */
  instanceServiceAccountEmail: z.email().optional(),
  /** Hard limit on a VM's life; GCP deletes it at this age even if the agent never finishes. */
  maxRunDurationS: z.number().int().min(600).max(30 * 24 * 3600).default(7 * 24 * 3600),
  /** Shell command that installs anneal-agent on the VM when it is not on the image. */
  agentInstallCommand: z.string().min(1).default('npm install -g @anneal/node-agent'),
  /** Whether spot offers are listed besides on-demand ones. */
  offerSpot: z.boolean().default(true),
  /** Expected completion share per capacity kind, shown on offers. */
  reliability: z
    .strictObject({ onDemand: z.number().min(0).max(1), spot: z.number().min(0).max(1) })
    .default({ onDemand: 0.99, spot: 0.8 }),
  /** How long provisioning waits for GCP's insert operation to finish. */
  operationTimeoutMs: z.number().int().positive().default(120_000),
});
export type GcpProviderConfigInput = z.input<typeof gcpProviderConfigSchema>;
export type GcpProviderConfig = z.output<typeof gcpProviderConfigSchema>;
