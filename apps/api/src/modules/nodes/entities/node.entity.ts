import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { bigintTransformer } from '../../../core/database/bigint.transformer.js';
import { Organization } from '../../orgs/entities/organization.entity.js';

/** Live status of a node: online (beats arrive), suspect (3 beats missed), offline (10 s without one). */
export type NodeLiveState = 'online' | 'suspect' | 'offline';

/** One GPU as registered (the join request's telemetry at registration time). */
export interface RegisteredGpu {
  index: number;
  name: string;
  gpuId: string | null;
  vramTotalMb: number | null;
}

/**
 * A community node. Live state lives in memory (every replica sees every heartbeat); this row holds
 * what the provider set and the last state written, at most once per node per 30 s plus on changes.
 */
@Entity('nodes')
export class Node {
  @PrimaryColumn('uuid')
  id!: string;

  @Index('nodes_org_id_idx')
  @Column('uuid', { name: 'org_id' })
  orgId!: string;

  @ManyToOne(() => Organization, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'org_id', foreignKeyConstraintName: 'nodes_org_id_fkey' })
  org?: Relation<Organization>;

  /** The node's nkey public key ('U…'): every message it publishes is signed with its seed. */
  @Index('nodes_public_key_key', { unique: true })
  @Column('text', { name: 'public_key' })
  publicKey!: string;

  /** Keyed hash of the node's bearer token; null once the node is removed (credentials revoked). */
  @Index('nodes_node_token_hash_key', { unique: true })
  @Column('text', { name: 'node_token_hash', nullable: true })
  nodeTokenHash!: string | null;

  /**
   * The node's heartbeat key (HMAC-SHA256, handed to the agent once at registration), sealed with
   * the SecretBox. Null: registered before heartbeat keys (its heartbeats are nkey-signed), or removed.
   */
  @Column('text', { name: 'heartbeat_key_sealed', nullable: true })
  heartbeatKeySealed!: string | null;

  @Column('text')
  hostname!: string;

  @Column('text', { name: 'agent_version' })
  agentVersion!: string;

  @Column('jsonb')
  gpus!: RegisteredGpu[];

  /** Catalog id of the node's GPUs (null: not in the catalog). */
  @Column('text', { name: 'gpu_model_id', nullable: true })
  gpuModelId!: string | null;

  @Column('text', { name: 'gpu_name' })
  gpuName!: string;

  @Column('integer', { name: 'gpu_count' })
  gpuCount!: number;

  /** Per GPU, as the driver reports it. */
  @Column('integer', { name: 'vram_mb', nullable: true })
  vramMb!: number | null;

  @Column('bigint', { name: 'price_micros_per_gpu_hour', transformer: bigintTransformer })
  priceMicrosPerGpuHour!: bigint;

  @Column('text', { nullable: true })
  region!: string | null;

  @Column('boolean')
  simulated!: boolean;

  @Column('boolean')
  listed!: boolean;

  /** The provider asked the node to drain: it takes no new attempts. */
  @Column('boolean')
  draining!: boolean;

  @Column('text')
  state!: NodeLiveState;

  @Column('timestamptz', { name: 'state_changed_at' })
  stateChangedAt!: Date;

  /** The state the agent last reported (active, draining, offline). */
  @Column('text', { name: 'agent_state', nullable: true })
  agentState!: string | null;

  @Column('timestamptz', { name: 'last_heartbeat_at', nullable: true })
  lastHeartbeatAt!: Date | null;

  @Column('bigint', { name: 'last_seq', nullable: true, transformer: bigintTransformer })
  lastSeq!: bigint | null;

  @Column('jsonb', { name: 'last_telemetry', nullable: true })
  lastTelemetry!: unknown[] | null;

  @Column('jsonb', { name: 'running_attempt', nullable: true })
  runningAttempt!: { attemptId: string; jobId: string; phase: 'accepted' | 'running' | 'stopping' } | null;

  /** The attempt the scheduler reserved this node for (set by the scheduler), null when free. */
  @Column('text', { name: 'reserved_for_attempt_id', nullable: true })
  reservedForAttemptId!: string | null;

  /**
   * A cloud machine's node: the one attempt it exists for. Such a node is never listed, is reserved
   * for that attempt from its registration, and is retired (credentials revoked) when the attempt ends.
   */
  @Index('nodes_bound_attempt_id_key', { unique: true, where: 'bound_attempt_id IS NOT NULL' })
  @Column('uuid', { name: 'bound_attempt_id', nullable: true })
  boundAttemptId?: string | null;

  /** When a replica last wrote the heartbeat fields (the once-per-30-s guard). */
  @Column('timestamptz', { name: 'last_written_at', nullable: true })
  lastWrittenAt!: Date | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** Removed by its provider (soft delete; history kept for disputes). */
  @Column('timestamptz', { name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  /** Quarantined by an admin (after a dispute): the node gets no new jobs until released. */
  @Column('timestamptz', { name: 'quarantined_at', nullable: true })
  quarantinedAt?: Date | null;

  @Column('text', { name: 'quarantine_reason', nullable: true })
  quarantineReason?: string | null;

  /** 0..1, set by an admin resolving a dispute: reliability is multiplied by (1 − penalty). */
  @Column('double precision', { name: 'reliability_penalty', default: 0 })
  reliabilityPenalty?: number;
}
