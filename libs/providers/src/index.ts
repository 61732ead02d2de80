export * from './community/protocol/index.js';
export * from './secrets/secret-box.js';

// The provider port: types, typed errors, capabilities.
export * from './port/provider.types.js';
export * from './port/provider.errors.js';
export * from './port/compute-provider.port.js';
export { matchesOfferQuery } from './port/offer-query.js';

// Adapters.
export { GcpProvider } from './gcp/gcp.provider.js';
export { gcpProviderConfigSchema, gcpCredentialsSchema, type GcpProviderConfig, type GcpProviderConfigInput, type GcpCredentials } from './gcp/gcp.config.js';
export { GCP_PRICING, gcpPricingCatalogSchema, type GcpPricingCatalog, type GcpPricingEntry } from './gcp/gcp-pricing.js';
export { RunpodProvider } from './runpod/runpod.provider.js';
export { runpodProviderConfigSchema, type RunpodProviderConfig, type RunpodProviderConfigInput } from './runpod/runpod.config.js';
export { CommunityProvider, type CommunityProviderDeps, type CommunityTerminateOptions } from './community/community.provider.js';
export { communityProviderConfigSchema, type CommunityProviderConfig, type CommunityProviderConfigInput } from './community/community.config.js';
export type { CommunityNode, CommunityNodeSource } from './community/community.types.js';
export { toStreamConfig } from './community/community.streams.js';

// Aggregated listing and failover across the configured providers.
export { ProviderRegistry, type AggregatedOfferListing, type FailoverResult, type OfferSkip, type ProviderFailure } from './registry/provider-registry.js';
export { communityInstanceId, communityOfferId, parseCommunityOfferId } from './community/community.mapper.js';
