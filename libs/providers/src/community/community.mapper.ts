import { isGpuId } from '@anneal/benchmarks';
import type { InstanceState, Offer, SkippedOffer } from '../port/provider.types.js';
import type { CommunityProviderConfig } from './community.config.js';
import type { CommunityNode } from './community.types.js';

export function communityOfferId(nodeId: string): string {
  return `community:${nodeId}`;
}

export function parseCommunityOfferId(offerId: string): string | null {
  return /^community:([A-Za-z0-9_-]{1,64})$/.exec(offerId)?.[1] ?? null;
}

/** A community "instance" is the node holding an attempt. */
export function communityInstanceId(nodeId: string, attemptId: string): string {
  return `${nodeId}/${attemptId}`;
}

export function parseCommunityInstanceId(instanceId: string): { nodeId: string; attemptId: string } | null {
  const match = /^([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/.exec(instanceId);
  return match ? { nodeId: match[1] as string, attemptId: match[2] as string } : null;
}

/** Whether a node can take an attempt now: listed, online and unreserved. */
export function isNodeRentable(node: CommunityNode): boolean {
  return node.listed && node.state === 'online' && node.reservedForAttemptId === null && node.runningAttempt === null;
}

/** Offers from rentable nodes; nodes whose GPU is not in the catalog are skipped and reported. */
export function communityOffers(nodes: readonly CommunityNode[], config: CommunityProviderConfig): { offers: Offer[]; skipped: SkippedOffer[] } {
  const offers: Offer[] = [];
  const skipped: SkippedOffer[] = [];
  for (const node of nodes) {
    if (!isNodeRentable(node) || node.reliability < config.minReliability) continue;
    if (node.gpuModelId === null || !isGpuId(node.gpuModelId)) {
      skipped.push({ providerKind: 'community', providerGpuName: node.gpuName, reason: `GPU '${node.gpuName}' of node ${node.nodeId} is not in the GPU catalog` });
      continue;
    }
    offers.push({
      providerKind: 'community',
      offerId: communityOfferId(node.nodeId),
      offerType: 'machine',
      gpuModelId: node.gpuModelId,
      gpuCount: node.gpuCount,
      vramGb: node.vramGb,
      region: node.region,
      zone: null,
      priceMicrosPerGpuHour: node.priceMicrosPerGpuHour,
      spot: false,
      reliability: node.reliability,
      availability: 'available',
      simulated: node.simulated,
    });
  }
  return { offers, skipped };
}

/** The attempt's state on a node, from the node's latest heartbeat. */
export function communityInstanceState(instanceId: string, node: CommunityNode, attemptId: string): InstanceState {
  const held = node.runningAttempt?.attemptId === attemptId ? node.runningAttempt : null;
  if (node.state === 'offline') {
    return { instanceId, status: 'stopped', providerStatus: held ? `offline (${held.phase})` : 'offline', preempted: false };
  }
  if (!held) {
    if (node.reservedForAttemptId === attemptId) return { instanceId, status: 'provisioning', providerStatus: 'assigned', preempted: false };
    return { instanceId, status: 'terminated', providerStatus: `${node.state}, not holding the attempt`, preempted: false };
  }
  const status = held.phase === 'accepted' ? 'provisioning' : held.phase === 'running' ? 'running' : 'stopping';
  return { instanceId, status, providerStatus: held.phase, preempted: false };
}
