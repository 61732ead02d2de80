import { z } from 'zod';

export const communityProviderConfigSchema = z.strictObject({
  /** NATS subject prefix ('' in production; `uniquePrefix()` in tests). */
  subjectPrefix: z.string().max(100).default(''),
  /** The platform's nkey seed ('SU…'): assignments and cancels are signed with it. A secret: never printed. */
  platformSeed: z.string().regex(/^SU[A-Z2-7]{56}$/, "an nkey user seed ('SU…')"),
  /** How long provisioning waits for the node's `accepted` (or `rejected`) event. */
  ackTimeoutMs: z.number().int().positive().default(30_000),
  /** Nodes whose reliability is below this are not offered. */
  minReliability: z.number().min(0).max(1).default(0),
});
export type CommunityProviderConfigInput = z.input<typeof communityProviderConfigSchema>;
export type CommunityProviderConfig = z.output<typeof communityProviderConfigSchema>;
