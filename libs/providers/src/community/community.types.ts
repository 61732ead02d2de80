/**
 * What the community adapter needs to know about registered nodes. The API implements
 * {@link CommunityNodeSource} from its database and heartbeat snapshots; the adapter never
 * touches the database.
 */
export interface CommunityNode {
  nodeId: string;
  /** The node's registered nkey public key ('U…'): its attempt events must be signed with it. */
  publicKey: string;
  /** Region the provider declared (or 'unknown'). */
  region: string;
  /** The catalog id of the node's GPUs, or null when their name is not in the catalog. */
  gpuModelId: string | null;
  /** The GPU name as the node reported it ('NVIDIA GeForce RTX 4090'). */
  gpuName: string;
  gpuCount: number;
  /** Per GPU. */
  vramGb: number;
  /** Set by the provider. */
  priceMicrosPerGpuHour: bigint;
  /** 0..1, from the node's history. */
  reliability: number;
  /** GPUs simulated by `anneal-agent --simulate`. */
  simulated: boolean;
  /** Listed for rent by its provider (not withdrawn, not banned). */
  listed: boolean;
  /** online: heartbeats arrive; draining: finishing work, taking none; offline: no recent heartbeat. */
  state: 'online' | 'draining' | 'offline';
  /** The attempt the API reserved this node for (assigned, not yet finished), or null when free. */
  reservedForAttemptId: string | null;
  /** From the latest heartbeat: the attempt the node holds and its phase. */
  runningAttempt: { attemptId: string; phase: 'accepted' | 'running' | 'stopping' } | null;
}

export interface CommunityNodeSource {
  /** The registered nodes; a source may leave out those that can never be rented now (unlisted, reserved, quarantined). */
  listNodes(): Promise<CommunityNode[]>;
  getNode(nodeId: string): Promise<CommunityNode | null>;
}
