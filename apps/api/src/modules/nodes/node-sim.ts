import {
  createNodeKeys,
  encodeMacMessage,
  encodeSignedMessage,
  heartbeatKeyBytes,
  heartbeatSubject,
  type GpuTelemetry,
  type Heartbeat,
  type JoinRequest,
  type NodeKeys,
  type RunningAttempt,
} from '@anneal/providers';

/**
 * A node's identity (nkey pair, and the heartbeat key the join response hands it) and heartbeat
 * builder, for tests and the heartbeat benchmark.
 */
export class SimulatedNode {
  readonly keys: NodeKeys;
  seq = 0;
  nodeId = '';
  /** The node's heartbeat MAC key (from the join response); null: it signs heartbeats with its nkey, as nodes registered before heartbeat keys do. */
  heartbeatKey: string | null = null;
  #macKey: Buffer | null = null;

  constructor(
    readonly prefix: string,
    keys: NodeKeys = createNodeKeys(),
    readonly gpus: GpuTelemetry[] = [
      { index: 0, name: 'NVIDIA GeForce RTX 4090', gpuId: 'rtx-4090', vramTotalMb: 24564, vramUsedMb: 1, utilizationPct: 0, temperatureC: 34, powerW: 21 },
    ],
  ) {
    this.keys = keys;
  }

  joinRequest(joinToken: string, overrides: Partial<JoinRequest> = {}): JoinRequest {
    return {
      schemaVersion: 1,
      joinToken,
      publicKey: this.keys.publicKey,
      gpus: this.gpus,
      priceMicrosPerGpuHour: '450000',
      region: 'eu-west',
      agentVersion: '0.1.0',
      hostname: 'gpu-box',
      simulated: false,
      ...overrides,
    };
  }

  /** Takes what the join endpoint answered: the node id and the heartbeat key. Returns this node. */
  joined(response: { nodeId: string; heartbeatKey: string | null }): this {
    this.nodeId = response.nodeId;
    this.heartbeatKey = response.heartbeatKey;
    this.#macKey = response.heartbeatKey === null ? null : heartbeatKeyBytes(response.heartbeatKey);
    return this;
  }

  get subject(): string {
    return heartbeatSubject(this.prefix, this.nodeId);
  }

  heartbeat(overrides: Partial<Heartbeat> = {}, now = new Date()): Heartbeat {
    this.seq = overrides.seq ?? this.seq + 1;
    return {
      schemaVersion: 1,
      type: 'heartbeat',
      nodeId: this.nodeId,
      seq: this.seq,
      sentAt: now.toISOString(),
      agentVersion: '0.1.0',
      uptimeS: 1,
      simulated: false,
      state: 'active',
      gpus: this.gpus,
      runningAttempt: null as RunningAttempt | null,
      ...overrides,
    };
  }

  /**
   * The message body of a heartbeat on this node's subject (or another subject: forgery tests), as
   * its agent sends it: MACed with its heartbeat key, or signed with its nkey when it has none.
   */
  encode(heartbeat: Heartbeat, subject = this.subject): Uint8Array {
    return this.#macKey ? encodeMacMessage(this.#macKey, subject, heartbeat) : encodeSignedMessage(this.keys.seed, subject, heartbeat);
  }

  /** A heartbeat signed with the node's nkey whatever its key (a signature where a MAC is expected: `wrong_alg`). */
  encodeSigned(heartbeat: Heartbeat, subject = this.subject): Uint8Array {
    return encodeSignedMessage(this.keys.seed, subject, heartbeat);
  }
}
