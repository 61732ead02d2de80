import { describe, expect, it } from 'vitest';
import { communityProviderConfigSchema } from './community.config.js';
import { communityInstanceState, communityOffers, parseCommunityInstanceId, parseCommunityOfferId } from './community.mapper.js';
import type { CommunityNode } from './community.types.js';

const base: CommunityNode = {
  nodeId: 'n1',
  publicKey: 'UABC',
  region: 'eu-west',
  gpuModelId: 'rtx-3090',
  gpuName: 'NVIDIA GeForce RTX 3090',
  gpuCount: 1,
  vramGb: 24,
  priceMicrosPerGpuHour: 200_000n,
  reliability: 0.6,
  simulated: false,
  listed: true,
  state: 'online',
  reservedForAttemptId: null,
  runningAttempt: null,
};
const config = communityProviderConfigSchema.parse({ platformSeed: `SU${'A'.repeat(56)}`, minReliability: 0.5 });

describe('community offers', () => {
  it('offers rentable nodes above the reliability floor, with an unknown catalog id skipped', () => {
    const { offers, skipped } = communityOffers(
      [
        base,
        { ...base, nodeId: 'n2', reliability: 0.4 },
        { ...base, nodeId: 'n3', runningAttempt: { attemptId: 'a', phase: 'running' } },
        { ...base, nodeId: 'n4', gpuModelId: 'not-a-catalog-id' },
      ],
      config,
    );
    expect(offers.map((o) => o.offerId)).toEqual(['community:n1']);
    expect(skipped.map((s) => s.providerGpuName)).toEqual(['NVIDIA GeForce RTX 3090']);
  });

  it('parses its ids', () => {
    expect(parseCommunityOfferId('community:n-1')).toBe('n-1');
    expect(parseCommunityOfferId('community:a.b')).toBeNull();
    expect(parseCommunityInstanceId('n-1/a-2')).toEqual({ nodeId: 'n-1', attemptId: 'a-2' });
    expect(parseCommunityInstanceId('n-1')).toBeNull();
  });
});

describe('community instance state', () => {
  it('follows the attempt through reservation, heartbeat phases and the node going away', () => {
    const id = 'n1/a1';
    expect(communityInstanceState(id, { ...base, reservedForAttemptId: 'a1' }, 'a1').status).toBe('provisioning');
    expect(communityInstanceState(id, { ...base, runningAttempt: { attemptId: 'a1', phase: 'accepted' } }, 'a1').status).toBe('provisioning');
    expect(communityInstanceState(id, { ...base, runningAttempt: { attemptId: 'a1', phase: 'running' } }, 'a1').status).toBe('running');
    expect(communityInstanceState(id, { ...base, runningAttempt: { attemptId: 'a1', phase: 'stopping' } }, 'a1').status).toBe('stopping');
    expect(communityInstanceState(id, { ...base, state: 'offline', runningAttempt: { attemptId: 'a1', phase: 'running' } }, 'a1')).toMatchObject({
      status: 'stopped',
      providerStatus: 'offline (running)',
    });
    expect(communityInstanceState(id, base, 'a1').status).toBe('terminated');
  });
});
