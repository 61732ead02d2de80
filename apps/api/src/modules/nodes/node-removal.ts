import type { EntityManager } from 'typeorm';
import { NodeStateEvent } from './entities/node-state-event.entity.js';
import { Node } from './entities/node.entity.js';

/**
 * Removes a node in the caller's transaction: soft delete (history kept for disputes), unlisted,
 * unreserved, offline, and its credentials revoked (node token, heartbeat key). The caller drops it
 * from the heartbeat consumer after the commit (`NodesConsumer.forget`).
 */
export async function revokeNode(manager: EntityManager, node: Pick<Node, 'id' | 'state'>, now: Date, reason: string, eventId: string): Promise<void> {
  await manager.update(Node, { id: node.id }, { deletedAt: now, nodeTokenHash: null, heartbeatKeySealed: null, listed: false, reservedForAttemptId: null, state: 'offline', stateChangedAt: now });
  if (node.state !== 'offline') {
    await manager.insert(NodeStateEvent, { id: eventId, nodeId: node.id, fromState: node.state, toState: 'offline', at: now, reason });
  }
}
