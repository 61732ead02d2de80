import { createNodeKeys, encodeSignedMessage, heartbeatSubject, type GpuTelemetry, type Heartbeat, type JoinRequest, type NodeKeys, type RunningAttempt } from '@anneal/providers';

/** A node's signing identity and heartbeat builder, for tests and the heartbeat benchmark. */
export class SimulatedNode {
  readonly keys: NodeKeys;
  seq = 0;
  nodeId = '';

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

  /** The signed message body of a heartbeat on this node's subject (or another subject: forgery tests). */
  encode(heartbeat: Heartbeat, subject = this.subject): Uint8Array {
    return encodeSignedMessage(this.keys.seed, subject, heartbeat);
  }
}
